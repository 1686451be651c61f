/**
 * Layer: unit. IP-address certificates (RFC 8738): the canonical form of an address
 * (jobs/decide/ip-address.ts), when IP hosts are accepted (jobs/decide/ip-certificates.ts,
 * jobs/decide/hosts.ts, jobs/decide/desired-certificates.ts), how their challenge is routed
 * (jobs/routing/rule-host.ts and the routers' pure builders), how a stored certificate's IP SANs
 * are compared (jobs/decide/certificate-facts.ts, certificate-checks.ts), and how the responder
 * matches an IPv6 Host header (responder/answer.ts).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  canonicalIpAddress,
  identifierType,
  isIpv4Mapped,
} from '../../../jobs/decide/ip-address.js';
import {
  ipCertificatesAllowed,
  ipCertificatesHint,
  type IpCertificateSettings,
} from '../../../jobs/decide/ip-certificates.js';
import { normalizeHosts, type HostOptions } from '../../../jobs/decide/hosts.js';
import {
  collectCertificates,
  type CollectSettings,
} from '../../../jobs/decide/desired-certificates.js';
import {
  parseSecret,
  readIpAddresses,
  readSecretFacts,
  readSubjectAltNames,
  recordSecretFacts,
} from '../../../jobs/decide/certificate-facts.js';
import { decodeSecretFacts } from '../../../shared/secret-facts.js';
import { certificateDoesNotCoverHosts } from '../../../jobs/decide/certificate-checks.js';
import { ruleHosts } from '../../../jobs/routing/rule-host.js';
import { buildNginxIngress } from '../../../jobs/routing/nginx-router.js';
import { addChallengePaths } from '../../../jobs/routing/gce-challenge-paths.js';
import { buildChallengeHttpRoute } from '../../../jobs/routing/httproute-router.js';
import { answerRequest } from '../../../responder/answer.js';
import { DAY, HOUR, at, certificate, tlsSecret } from './fixtures.js';

describe('canonicalIpAddress', () => {
  const rows: [string, string | undefined][] = [
    ['192.0.2.1', '192.0.2.1'],
    [' 127.0.0.1 ', '127.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['fe80::1%eth0', undefined],
    ['01.2.3.4', undefined],
    ['1.2.3', undefined],
    ['0x7f.1', undefined],
    ['example.com', undefined],
    ['', undefined],
  ];
  for (const [raw, want] of rows) {
    test(`${JSON.stringify(raw)} → ${String(want)}`, () => {
      assert.equal(canonicalIpAddress(raw), want);
    });
  }

  test('IPv4-mapped IPv6 is recognised, identifier types follow the form', () => {
    assert.equal(isIpv4Mapped(canonicalIpAddress('::ffff:192.0.2.1') ?? ''), true);
    assert.equal(isIpv4Mapped('2001:db8::1'), false);
    assert.equal(identifierType('192.0.2.1'), 'ip');
    assert.equal(identifierType('2001:db8::1'), 'ip');
    assert.equal(identifierType('a.example'), 'dns');
  });
});

describe('ipCertificatesAllowed', () => {
  const rows: [IpCertificateSettings, boolean][] = [
    [{ ipCertificates: 'auto', acmeProfile: 'shortlived' }, true],
    [{ ipCertificates: 'auto', acmeProfile: 'classic' }, false],
    [{ ipCertificates: 'auto', acmeProfile: 'tlsserver' }, false],
    [{ ipCertificates: 'auto', acmeProfile: '' }, false],
    [{ ipCertificates: 'true', acmeProfile: '' }, true],
    [{ ipCertificates: 'false', acmeProfile: 'shortlived' }, false],
  ];
  for (const [settings, want] of rows) {
    test(`${settings.ipCertificates} with profile "${settings.acmeProfile}" → ${String(want)}`, () => {
      assert.equal(ipCertificatesAllowed(settings), want);
    });
  }

  test('the hint says how to enable them, or that they are off', () => {
    const auto = ipCertificatesHint({ ipCertificates: 'auto', acmeProfile: 'classic' });
    assert.match(auto, /LEGO_ACME_PROFILE=shortlived/);
    assert.match(auto, /LEGO_IP_CERTIFICATES=true/);
    assert.match(auto, /now: classic/);
    assert.match(
      ipCertificatesHint({ ipCertificates: 'false', acmeProfile: 'shortlived' }),
      /LEGO_IP_CERTIFICATES=false/,
    );
  });
});

describe('normalizeHosts with IP addresses allowed', () => {
  const ALLOWED: HostOptions = { ipAddresses: true, ipAddressHint: 'unused' };

  test('IPv4 and IPv6 in canonical form; an IP address is never the Common Name', () => {
    const result = normalizeHosts(
      ['[2001:DB8::0:1]', '192.0.2.1', 'a.example', '2001:db8::1'],
      ALLOWED,
    );
    assert.deepEqual(result, {
      ok: true,
      hosts: ['2001:db8::1', '192.0.2.1', 'a.example'],
      commonName: 'a.example',
    });
    assert.deepEqual(normalizeHosts(['192.0.2.1'], ALLOWED), {
      ok: true,
      hosts: ['192.0.2.1'],
      commonName: undefined,
    });
  });

  const invalid: [string, string][] = [
    ['0x7f.1', 'dotted decimal'],
    ['fe80::1%eth0', 'zone index'],
    ['::ffff:192.0.2.1', 'IPv4-mapped'],
  ];
  for (const [host, mentions] of invalid) {
    test(`${host} is InvalidHost`, () => {
      const result = normalizeHosts([host], ALLOWED);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, 'InvalidHost');
      assert.ok(result.message.includes(mentions), result.message);
    });
  }

  test('not allowed: IpAddressHost, its message ending with the hint', () => {
    const result = normalizeHosts(['192.0.2.1'], { ipAddresses: false, ipAddressHint: 'Do X.' });
    assert.deepEqual(result, {
      ok: false,
      reason: 'IpAddressHost',
      message: 'Host "192.0.2.1" is an IP address; Do X.',
    });
  });
});

describe('collectCertificates and IP hosts', () => {
  const base: CollectSettings = {
    kubeAnnotation: 'kubernetes.io/tls-acme',
    defaultIngressClass: 'nginx',
    supportedIngressClass: ['nginx'],
    defaultIngressProvider: '',
    supportedIngressProvider: ['ingress'],
    supportedGatewayClass: [],
    namespace: 'kube-lego',
    gatewayHttpPort: 80,
    ipCertificates: 'auto',
    acmeProfile: '',
  };
  const ingress = {
    namespace: 'app',
    name: 'web',
    uid: 'uid',
    resourceVersion: '1',
    annotations: { 'kubernetes.io/tls-acme': 'true' },
    ingressClassName: undefined,
    tls: [{ hosts: ['192.0.2.7'], secretName: 'ip-tls' }],
  };

  test('with the shortlived profile the entry is a certificate', () => {
    const collected = collectCertificates([ingress], { ...base, acmeProfile: 'shortlived' });
    assert.deepEqual(collected.invalid, []);
    assert.deepEqual(
      collected.certificates.map((c) => c.hosts),
      [['192.0.2.7']],
    );
  });

  test('with another profile it is IpAddressHost, saying how to enable it', () => {
    const collected = collectCertificates([ingress], { ...base, acmeProfile: 'classic' });
    assert.deepEqual(collected.certificates, []);
    assert.equal(collected.invalid[0]?.reason, 'IpAddressHost');
    assert.match(collected.invalid[0]?.message ?? '', /LEGO_ACME_PROFILE=shortlived/);
  });
});

describe('challenge routes for IP addresses', () => {
  test('ruleHosts: DNS names as they are, the IP addresses as one rule without host', () => {
    assert.deepEqual(ruleHosts(['a.example', '192.0.2.1', '2001:db8::1', 'b.example']), [
      'a.example',
      undefined,
      'b.example',
    ]);
  });

  test('the challenge Ingress has a rule without host for an IP address', () => {
    const ingress = buildNginxIngress(
      {
        namespace: 'kube-lego',
        port: 8080,
        serviceNameNginx: 'kube-lego-nginx',
        ingressNameNginx: 'kube-lego-nginx',
      },
      ['192.0.2.1', 'a.example'],
      'nginx',
    );
    const rules = ingress.spec?.rules ?? [];
    assert.deepEqual(
      rules.map((rule) => rule.host),
      [undefined, 'a.example'],
    );
    assert.ok(!('host' in (rules[0] ?? {})), 'no host key at all, not host: undefined');
  });

  test('gce: the challenge path goes into the rule without host', () => {
    const backend = { serviceName: 'kube-lego-gce', port: 8080 };
    const rules = addChallengePaths(
      [
        {
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
      ['192.0.2.1'],
      backend,
    );
    assert.equal(rules?.length, 1);
    assert.equal(rules?.[0]?.host, undefined);
    assert.equal(rules?.[0]?.http?.paths.length, 2);
  });

  test('an HTTPRoute leaves IP addresses out of its hostnames', () => {
    const settings = {
      namespace: 'kube-lego',
      port: 8080,
      serviceNameNginx: 'kube-lego-nginx',
      httpRouteName: 'kube-lego-gateway',
    };
    assert.deepEqual(
      buildChallengeHttpRoute(settings, ['a.example', '192.0.2.1'], []).spec.hostnames,
      ['a.example'],
    );
    assert.ok(!('hostnames' in buildChallengeHttpRoute(settings, ['192.0.2.1'], []).spec));
  });
});

describe('stored certificates with IP SANs', () => {
  const spec = {
    key: 'rsa-a' as const,
    dnsNames: ['a.example'],
    ipAddresses: ['192.0.2.1', '2001:db8::1'],
    notBefore: at(-DAY),
    notAfter: at(5 * DAY),
  };

  test('IP SANs are read in canonical form, beside the DNS names', () => {
    const leaf = new X509Certificate(certificate(spec));
    assert.deepEqual(readIpAddresses(leaf), ['192.0.2.1', '2001:db8::1']);
    assert.deepEqual(readSubjectAltNames(leaf), ['192.0.2.1', '2001:db8::1', 'a.example']);
  });

  test('HostsChanged compares IP SANs too', () => {
    const parsed = parseSecret(tlsSecret(spec));
    const check = (hosts: string[]) =>
      certificateDoesNotCoverHosts(
        {
          secret: parsed,
          hosts,
          directoryUrl: 'https://acme.example/directory',
          keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
          minimumValidityMs: 720 * HOUR,
        },
        at(0),
      );
    assert.equal(check(['a.example', '192.0.2.1', '2001:db8::1']), undefined);
    assert.match(check(['a.example', '192.0.2.1'])?.message ?? '', /also covers 2001:db8::1/);
    assert.match(
      check(['a.example', '192.0.2.1', '2001:db8::1', '192.0.2.2'])?.message ?? '',
      /does not cover 192\.0\.2\.2/,
    );
  });

  test('recorded facts (an unchanged Secret, not parsed again) keep the IP SANs', () => {
    const view = { ...tlsSecret(spec), resourceVersion: '42' };
    const record = recordSecretFacts(parseSecret(view));
    assert.deepEqual(record?.ipAddresses, ['192.0.2.1', '2001:db8::1']);
    const stored = decodeSecretFacts(JSON.parse(JSON.stringify(record)));
    const read = readSecretFacts(view, stored);
    assert.equal(read.source, 'recorded');
    assert.deepEqual(read.facts?.ipAddresses, ['192.0.2.1', '2001:db8::1']);
    const check = certificateDoesNotCoverHosts(
      {
        secret: read,
        hosts: ['a.example', '192.0.2.1', '2001:db8::1'],
        directoryUrl: 'https://acme.example/directory',
        keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
        minimumValidityMs: 720 * HOUR,
      },
      at(0),
    );
    assert.equal(check, undefined);
  });
});

describe('the responder and IP hosts', () => {
  const lookup = (domain: string) => ({
    find: (token: string) =>
      token === 'tok' ? { token, domain, keyAuthorization: 'tok.thumb' } : undefined,
  });
  const ask = (domain: string, host: string) =>
    answerRequest(
      { method: 'GET', url: '/.well-known/acme-challenge/tok', host },
      lookup(domain),
      true,
    ).status;

  test('an IPv4 identifier is answered for its address, with or without port', () => {
    assert.equal(ask('127.0.0.1', '127.0.0.1:5002'), 200);
    assert.equal(ask('127.0.0.1', '127.0.0.2'), 404);
  });

  test('an IPv6 identifier is answered for its bracketed Host', () => {
    assert.equal(ask('2001:db8::1', '[2001:db8::1]:80'), 200);
    assert.equal(ask('2001:db8::1', '[2001:db8::1]'), 200);
    assert.equal(ask('2001:db8::1', '[2001:db8::2]'), 404);
    assert.equal(ask('a.example', '[a.example]'), 404);
  });
});
