/**
 * Layer: e2e. Certificate profiles (draft-aaron-acme-profiles) and IP-address certificates
 * (RFC 8738): the job as its own process (as the CronJob runs it), the real responder process,
 * the real kube-apiserver, and Pebble with Let's Encrypt's profile names (`classic` 90 d,
 * `tlsserver` 45 d, `shortlived` 20 s here; test/env/environment.ts). Pebble validates an IP
 * identifier by dialling that address on its httpPort, where the responder listens on
 * 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { decodeStatus, type CertificateStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace } from '../env/context.js';
import { readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, type JobResult } from '../support/job-process.js';
import { startPebbleResponder, stopPebbleResponder } from '../support/pebble-responder.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);
const DAY = 86_400_000;

after(stopPebbleResponder);

interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
}

/** Namespaces for one test, and the responder (Pebble dials one port) watching its own. */
async function scene(name: string): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  await startPebbleResponder(lego);
  return {
    lego,
    app,
    env: (extra = {}) => jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, ...extra }),
  };
}

/**
 * An annotated Ingress whose TLS entry is an IP address. Its rule has no host: the API server
 * refuses an IP address in a rule's host, not in `spec.tls[].hosts`.
 */
function ipIngress(name: string, address: string): V1Ingress {
  return {
    metadata: { name, annotations: { 'kubernetes.io/tls-acme': 'true' } },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [address], secretName: `${name}-tls` }],
      rules: [
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
    },
  };
}

function logged(result: JobResult, msg: string): Record<string, unknown>[] {
  return result.logs.filter((l) => l.msg === msg);
}

async function leaf(namespace: string, secretName: string): Promise<X509Certificate> {
  const secret = await readSecret(namespace, secretName);
  assert.ok(secret?.data?.['tls.crt'], `Secret ${namespace}/${secretName} holds a certificate`);
  const pem = Buffer.from(secret.data['tls.crt'], 'base64').toString('utf8');
  return new X509Certificate(
    /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)![0],
  );
}

async function entry(lego: string, secretName: string): Promise<CertificateStatus> {
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  const found = decodeStatus(cm.data).certificates.find((c) => c.secretName === secretName);
  assert.ok(found, `a status entry for ${secretName}`);
  return found;
}

describe('IP-address certificates (RFC 8738)', () => {
  test('with the shortlived profile: issued with the IP address as a SAN, and compared as one', async () => {
    const s = await scene('ip-short');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: ipIngress('ip', '127.0.0.1'),
    });
    // ARI off: Pebble's window for a 20-second certificate is not what this test is about.
    const env = s.env({ LEGO_ACME_PROFILE: 'shortlived', LEGO_RENEWAL_INFO: 'false' });
    const first = await runJob(env);
    assertExit(first, 0);
    assert.equal(first.summary?.issued, 1, first.stderr);
    const cert = await leaf(s.app, 'ip-tls');
    assert.equal(cert.subjectAltName, 'IP Address:127.0.0.1');
    assert.ok(cert.checkIP('127.0.0.1'), 'the certificate is valid for the address');
    const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    assert.ok(lifetime <= 60_000, `a shortlived certificate (${lifetime} ms)`);
    assert.deepEqual((await entry(s.lego, 'ip-tls')).hosts, ['127.0.0.1']);

    // The next run reads the IP SAN as the entry's host (no HostsChanged), and says once that the
    // one-third rule renews this certificate (720h is longer than 20 s).
    const second = await runJob(env);
    assertExit(second, 0);
    const decision = second.logs.find((l) => typeof l.decision === 'string');
    assert.notEqual(decision?.reason, 'HostsChanged', JSON.stringify(decision));
    const warnings = second.logs.filter(
      (l) => l.reason === 'MinimumValidityNotShorterThanLifetime',
    );
    assert.equal(warnings.length, 1, second.stderr);
    assert.equal(warnings[0]?.level, 'warn');

    // plan says it too, under Warnings.
    const plan = await runJob(env, ['plan']);
    assert.match(
      plan.stdout,
      /Warnings:\n\s+MinimumValidityNotShorterThanLifetime: LEGO_MINIMUM_VALIDITY \(720h0m0s\)/,
    );
  });

  // An IPv6 address cannot be tested here: kube-apiserver refuses it in spec.tls[].hosts (it
  // must be an RFC 1123 subdomain, which "127.0.0.1" is and "::1" is not).
  test('LEGO_IP_CERTIFICATES=true with another profile: issued, and the next run finds it up to date', async () => {
    const s = await scene('ip-setting');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: ipIngress('ip', '127.0.0.1'),
    });
    const env = s.env({ LEGO_IP_CERTIFICATES: 'true', LEGO_RENEWAL_INFO: 'false' });
    const first = await runJob(env);
    assertExit(first, 0);
    assert.equal(first.summary?.issued, 1, first.stderr);
    assert.equal((await leaf(s.app, 'ip-tls')).subjectAltName, 'IP Address:127.0.0.1');
    const second = await runJob(env);
    assertExit(second, 0);
    assert.deepEqual(
      second.logs.filter((l) => typeof l.decision === 'string').map((l) => l.reason),
      ['UpToDate'],
    );
    assert.equal(second.summary?.acmeRequests, 0);
  });

  test('without it: rejected with IpAddressHost saying how to enable it, and no ACME request', async () => {
    const s = await scene('ip-classic');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: ipIngress('ip', '127.0.0.1'),
    });
    const result = await runJob(s.env({ LEGO_ACME_PROFILE: 'classic' }));
    assertExit(result, 0);
    const invalid = logged(result, 'invalid TLS entry');
    assert.equal(invalid.length, 1, result.stderr);
    assert.equal(invalid[0]?.reason, 'IpAddressHost');
    assert.match(
      String(invalid[0]?.message),
      /"127\.0\.0\.1" is an IP address; .*LEGO_ACME_PROFILE=shortlived.*LEGO_IP_CERTIFICATES=true/,
    );
    assert.equal(result.summary?.acmeRequests, 0, 'no order, not even the directory');
    assert.equal(await readSecret(s.app, 'ip-tls'), undefined);
  });
});

describe('profiles by name', () => {
  test('classic and tlsserver are ordered by name and give their lifetimes', async () => {
    const s = await scene('profiles');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('web', [
        { hosts: ['classic.profiles.example'], secretName: 'web-tls' },
      ]),
    });
    const classic = await runJob(s.env({ LEGO_ACME_PROFILE: 'classic' }));
    assertExit(classic, 0);
    assert.equal(classic.summary?.issued, 1, classic.stderr);
    const classicLeaf = await leaf(s.app, 'web-tls');
    assert.equal(
      Date.parse(classicLeaf.validTo) - Date.parse(classicLeaf.validFrom) + 1000,
      90 * DAY,
    );

    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('api', [
        { hosts: ['tlsserver.profiles.example'], secretName: 'api-tls' },
      ]),
    });
    const tlsserver = await runJob(s.env({ LEGO_ACME_PROFILE: 'tlsserver' }));
    assertExit(tlsserver, 0);
    assert.equal(tlsserver.summary?.issued, 1, tlsserver.stderr);
    const tlsserverLeaf = await leaf(s.app, 'api-tls');
    assert.equal(
      Date.parse(tlsserverLeaf.validTo) - Date.parse(tlsserverLeaf.validFrom) + 1000,
      45 * DAY,
    );

    // The newest certificate lives 45 days: a minimum validity of 46 days is warned about.
    const plan = await runJob(
      s.env({ LEGO_ACME_PROFILE: 'tlsserver', LEGO_MINIMUM_VALIDITY: '1104h' }),
      ['plan'],
    );
    assert.match(
      plan.stdout,
      /MinimumValidityNotShorterThanLifetime: .*newest certificate from this directory lives 1080h/,
    );
    assert.doesNotMatch(plan.stdout, /ProfileNotAdvertised/);
  });

  test('an unknown profile: the certificate fails with the server message and backs off; the next run sends no ACME request', async () => {
    const s = await scene('profile-unknown');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('web', [
        { hosts: ['unknown.profiles.example'], secretName: 'web-tls' },
      ]),
    });
    const env = s.env({ LEGO_ACME_PROFILE: 'nope' });

    const plan = await runJob(env, ['plan']);
    assert.match(
      plan.stdout,
      /ProfileNotAdvertised: LEGO_ACME_PROFILE is "nope", but the directory offers [^\n]*classic[^\n]*shortlived/,
    );

    const first = await runJob(env);
    assertExit(first, 0);
    const failure = logged(first, 'certificate could not be obtained')[0];
    assert.equal(failure?.reason, 'AcmeInvalidProfile', first.stderr);
    assert.match(String(failure?.error), /unrecognized profile name "nope"/);
    assert.equal(first.summary?.failed, 1);
    const recorded = await entry(s.lego, 'web-tls');
    assert.equal(recorded.failures, 1);
    assert.equal(recorded.reason, 'AcmeInvalidProfile');
    assert.ok(recorded.retryAfter && Date.parse(recorded.retryAfter) > Date.now(), 'a back-off');

    // The test clock is not moved: the back-off holds, and nothing is sent to Pebble.
    const second = await runJob(env);
    assertExit(second, 0);
    const held = second.logs.find((l) => l.decision === 'BackingOff');
    assert.ok(held, second.stderr);
    assert.equal(second.summary?.acmeRequests, 0);
    assert.equal((await entry(s.lego, 'web-tls')).failures, 1);
  });
});
