/**
 * Layer: unit. From annotated Gateways' listeners to wanted certificates
 * (jobs/decide/gateway-listeners.ts), and their grouping with Ingresses' TLS entries
 * (jobs/decide/desired-certificates.ts). Table-driven, like the TLS-entry tests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  collectCertificates,
  type CollectSettings,
} from '../../../jobs/decide/desired-certificates.js';
import { collectGatewayEntries, hostnameMatches } from '../../../jobs/decide/gateway-listeners.js';
import type { GatewayView, IngressView, ListenerRef } from '../../../jobs/model.js';

const SETTINGS: CollectSettings = {
  kubeAnnotation: 'kubernetes.io/tls-acme',
  defaultIngressClass: 'nginx',
  supportedIngressClass: ['nginx', 'gce'],
  defaultIngressProvider: '',
  supportedIngressProvider: ['ingress', 'gce'],
  supportedGatewayClass: [],
  namespace: 'kube-lego',
  gatewayHttpPort: 80,
  ipCertificates: 'auto',
  acmeProfile: '',
};

type Listener = GatewayView['listeners'][number];

/** An HTTP listener on port 80 that admits routes from every namespace. */
const HTTP_ALL: Listener = {
  name: 'http',
  protocol: 'HTTP',
  port: 80,
  allowedRoutes: { namespaces: { from: 'All' } },
};

function https(name: string, hostname: unknown, secret: unknown = `${name}-tls`): Listener {
  return {
    name,
    protocol: 'HTTPS',
    port: 443,
    hostname,
    tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: secret }] },
  };
}

function gateway(
  listeners: Listener[],
  overrides: Partial<GatewayView> = {},
  namespace = 'shop',
  name = 'edge',
): GatewayView {
  return {
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    resourceVersion: '1',
    annotations: { 'kubernetes.io/tls-acme': 'true' },
    gatewayClassName: 'traefik',
    listeners,
    ...overrides,
  };
}

function parent(listener: string, namespace = 'shop', name = 'edge'): ListenerRef {
  return { namespace, name, listener };
}

describe('collectGatewayEntries: one listener → a wanted certificate, or a reason', () => {
  const rows: {
    name: string;
    listeners: Listener[];
    /** The wanted entry's Secret, hosts and HTTP listeners; or the reason it is invalid. */
    want: { secret: string; hosts: string[]; via: string[] } | { reason: string; match?: RegExp };
    namespace?: string;
  }[] = [
    {
      name: 'HTTPS listener with a hostname and a Secret; HTTP listener for every host',
      listeners: [HTTP_ALL, https('a', 'a.example.com')],
      want: { secret: 'a-tls', hosts: ['a.example.com'], via: ['http'] },
    },
    {
      name: 'hostname is normalised (case, trailing dot) like an Ingress host',
      listeners: [HTTP_ALL, https('a', 'A.Example.COM.')],
      want: { secret: 'a-tls', hosts: ['a.example.com'], via: ['http'] },
    },
    {
      name: 'TLS listener terminating TLS (the default mode) counts',
      listeners: [
        HTTP_ALL,
        {
          name: 't',
          protocol: 'TLS',
          port: 443,
          hostname: 't.example.com',
          tls: { certificateRefs: [{ name: 't-tls' }] },
        },
      ],
      want: { secret: 't-tls', hosts: ['t.example.com'], via: ['http'] },
    },
    {
      name: 'HTTP listeners whose hostname matches: exact, wildcard; others and other ports not',
      listeners: [
        { ...HTTP_ALL, name: 'exact', hostname: 'a.example.com' },
        { ...HTTP_ALL, name: 'wild', hostname: '*.example.com' },
        { ...HTTP_ALL, name: 'other', hostname: 'b.example.com' },
        { ...HTTP_ALL, name: 'alt-port', port: 8080 },
        https('a', 'a.example.com'),
      ],
      want: { secret: 'a-tls', hosts: ['a.example.com'], via: ['exact', 'wild'] },
    },
    {
      name: 'no hostname',
      listeners: [HTTP_ALL, https('a', undefined)],
      want: { reason: 'ListenerWithoutHostname', match: /spec\.listeners\[1\]\.hostname/ },
    },
    {
      name: 'a wildcard hostname',
      listeners: [HTTP_ALL, https('a', '*.example.com')],
      want: { reason: 'WildcardHost' },
    },
    {
      name: 'an IP address as hostname',
      listeners: [HTTP_ALL, https('a', '192.0.2.1')],
      want: { reason: 'IpAddressHost' },
    },
    {
      name: 'no certificateRefs',
      listeners: [HTTP_ALL, { ...https('a', 'a.example.com'), tls: { mode: 'Terminate' } }],
      want: { reason: 'NoCertificateRef' },
    },
    {
      name: 'a reference to another kind',
      listeners: [
        HTTP_ALL,
        {
          ...https('a', 'a.example.com'),
          tls: { certificateRefs: [{ group: 'example.com', kind: 'Vault', name: 'x' }] },
        },
      ],
      want: { reason: 'CertificateRefNotSecret' },
    },
    {
      name: "a Secret of another namespace (the job writes only into the Gateway's)",
      listeners: [
        HTTP_ALL,
        {
          ...https('a', 'a.example.com'),
          tls: { certificateRefs: [{ name: 'x', namespace: 'certs' }] },
        },
      ],
      want: { reason: 'CertificateRefOtherNamespace', match: /"certs"/ },
    },
    {
      name: 'an invalid Secret name',
      listeners: [HTTP_ALL, https('a', 'a.example.com', 'Not_A_Name')],
      want: { reason: 'InvalidSecretName' },
    },
    {
      name: 'no HTTP listener at all',
      listeners: [https('a', 'a.example.com')],
      want: { reason: 'NoChallengeListener', match: /port 80 for a\.example\.com/ },
    },
    {
      name: 'HTTP listener with the default allowedRoutes (Same) in another namespace than LEGO_NAMESPACE',
      listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }, https('a', 'a.example.com')],
      want: { reason: 'NoChallengeListener', match: /namespace kube-lego/ },
    },
    {
      name: 'allowedRoutes Same, and the Gateway is in LEGO_NAMESPACE',
      namespace: 'kube-lego',
      listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }, https('a', 'a.example.com')],
      want: { secret: 'a-tls', hosts: ['a.example.com'], via: ['http'] },
    },
    {
      name: 'allowedRoutes Selector (LEGO_NAMESPACE labels unknown: assumed admitted)',
      listeners: [
        {
          ...HTTP_ALL,
          allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: {} } } },
        },
        https('a', 'a.example.com'),
      ],
      want: { secret: 'a-tls', hosts: ['a.example.com'], via: ['http'] },
    },
    {
      name: 'allowedRoutes kinds without HTTPRoute',
      listeners: [
        {
          ...HTTP_ALL,
          allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ kind: 'GRPCRoute' }] },
        },
        https('a', 'a.example.com'),
      ],
      want: { reason: 'NoChallengeListener' },
    },
    {
      name: 'only the HTTP listener whose hostname matches is on port 80',
      listeners: [
        { ...HTTP_ALL, name: 'b-only', hostname: 'b.example.com' },
        https('a', 'a.example.com'),
      ],
      want: { reason: 'NoChallengeListener' },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = collectGatewayEntries([gateway(row.listeners, {}, row.namespace)], SETTINGS);
      assert.deepEqual(result.skipped, []);
      if ('reason' in row.want) {
        assert.deepEqual(result.entries, []);
        assert.deepEqual(
          result.invalid.map((i) => [i.ref.kind, i.ref.listener, i.reason]),
          [['Gateway', 'a', row.want.reason]],
        );
        if (row.want.match) assert.match(result.invalid[0]!.message, row.want.match);
      } else {
        assert.deepEqual(result.invalid, []);
        assert.deepEqual(
          result.entries.map((e) => ({
            secret: e.secretName,
            hosts: e.hosts,
            via: e.httpListeners.map((l) => l.listener),
            provider: e.provider,
            cls: e.ingressClass,
          })),
          [{ ...row.want, provider: 'gateway', cls: 'traefik' }],
        );
      }
    });
  }
});

describe('collectGatewayEntries: which Gateways are considered', () => {
  const rows: {
    name: string;
    gateway: GatewayView;
    settings?: Partial<CollectSettings>;
    entries: number;
    skipped: string[];
  }[] = [
    {
      name: 'annotated "True"',
      gateway: gateway([HTTP_ALL, https('a', 'a.example.com')], {
        annotations: { 'kubernetes.io/tls-acme': 'True' },
      }),
      entries: 1,
      skipped: [],
    },
    {
      name: 'not annotated: ignored silently',
      gateway: gateway([HTTP_ALL, https('a', 'a.example.com')], { annotations: {} }),
      entries: 0,
      skipped: [],
    },
    {
      name: 'annotated "yes": skipped with its reason',
      gateway: gateway([HTTP_ALL, https('a', 'a.example.com')], {
        annotations: { 'kubernetes.io/tls-acme': 'yes' },
      }),
      entries: 0,
      skipped: ['AnnotationNotTrue'],
    },
    {
      name: 'a class not in LEGO_SUPPORTED_GATEWAY_CLASS',
      gateway: gateway([HTTP_ALL, https('a', 'a.example.com')]),
      settings: { supportedGatewayClass: ['istio'] },
      entries: 0,
      skipped: ['UnsupportedGatewayClass'],
    },
    {
      name: 'a class in LEGO_SUPPORTED_GATEWAY_CLASS',
      gateway: gateway([HTTP_ALL, https('a', 'a.example.com')]),
      settings: { supportedGatewayClass: ['istio', 'traefik'] },
      entries: 1,
      skipped: [],
    },
    {
      name: 'no certificate listener (HTTP and TLS passthrough only)',
      gateway: gateway([
        HTTP_ALL,
        {
          name: 'p',
          protocol: 'TLS',
          port: 443,
          hostname: 'p.example.com',
          tls: { mode: 'Passthrough' },
        },
      ]),
      entries: 0,
      skipped: ['NoTlsEntries'],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = collectGatewayEntries([row.gateway], { ...SETTINGS, ...row.settings });
      assert.equal(result.entries.length, row.entries);
      assert.deepEqual(
        result.skipped.map((s) => [s.kind, s.reason]),
        row.skipped.map((r) => ['Gateway', r]),
      );
    });
  }
});

describe('collectCertificates: listeners grouped by Secret, with Ingresses', () => {
  test('two HTTPS listeners for two hosts: two certificates, routed through the HTTP listener', () => {
    const result = collectCertificates([], SETTINGS, [
      gateway([HTTP_ALL, https('a', 'a.example.com'), https('b', 'b.example.com')]),
    ]);
    assert.deepEqual(result.invalid, []);
    assert.deepEqual(
      result.certificates.map((c) => [c.secretName, c.hosts, c.provider, c.httpListeners]),
      [
        ['a-tls', ['a.example.com'], 'gateway', [parent('http')]],
        ['b-tls', ['b.example.com'], 'gateway', [parent('http')]],
      ],
    );
    assert.deepEqual(result.certificates[0]!.requesters, [
      {
        kind: 'Gateway',
        namespace: 'shop',
        name: 'edge',
        uid: 'uid-shop-edge',
        index: 1,
        listener: 'a',
      },
    ]);
  });

  test('listeners naming one Secret with the same host merge; their HTTP listeners are united', () => {
    const result = collectCertificates([], SETTINGS, [
      gateway([HTTP_ALL, https('a', 'a.example.com', 'shared')]),
      gateway(
        [HTTP_ALL, { ...https('a2', 'a.example.com', 'shared'), port: 8443 }],
        {},
        'shop',
        'edge-2',
      ),
    ]);
    assert.deepEqual(result.invalid, []);
    assert.equal(result.certificates.length, 1);
    assert.deepEqual(result.certificates[0]!.httpListeners, [
      parent('http'),
      parent('http', 'shop', 'edge-2'),
    ]);
    assert.deepEqual(
      result.certificates[0]!.requesters.map((r) => `${r.name}/${r.listener}`),
      ['edge/a', 'edge-2/a2'],
    );
  });

  test('listeners naming one Secret with different hosts conflict, as TLS entries do', () => {
    const result = collectCertificates([], SETTINGS, [
      gateway([
        HTTP_ALL,
        https('a', 'a.example.com', 'shared'),
        https('b', 'b.example.com', 'shared'),
      ]),
    ]);
    assert.deepEqual(result.certificates, []);
    assert.deepEqual(
      result.invalid.map((i) => [i.ref.listener, i.reason]),
      [
        ['a', 'SecretNameConflict'],
        ['b', 'SecretNameConflict'],
      ],
    );
    assert.match(result.invalid[0]!.message, /Gateway shop\/edge listener "b"/);
  });

  test('an Ingress and a Gateway listener wanting one Secret: the Ingress routes it', () => {
    const ingress: IngressView = {
      namespace: 'shop',
      name: 'web',
      uid: 'uid-shop-web',
      resourceVersion: '1',
      annotations: { 'kubernetes.io/tls-acme': 'true' },
      ingressClassName: undefined,
      tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }],
    };
    const result = collectCertificates([ingress], SETTINGS, [
      gateway([HTTP_ALL, https('a', 'a.example.com')]),
    ]);
    assert.equal(result.certificates.length, 1);
    const [certificate] = result.certificates;
    assert.equal(certificate!.provider, 'ingress');
    assert.equal(certificate!.httpListeners, undefined);
    assert.deepEqual(
      certificate!.requesters.map((r) => r.kind),
      ['Ingress', 'Gateway'],
    );
  });

  test('the result does not depend on the order of the Gateways', () => {
    const gateways = [
      gateway([HTTP_ALL, https('a', 'a.example.com')], {}, 'shop', 'one'),
      gateway([HTTP_ALL, https('b', 'b.example.com'), https('c', undefined)], {}, 'blog', 'two'),
    ];
    assert.deepEqual(
      collectCertificates([], SETTINGS, gateways),
      collectCertificates([], SETTINGS, [...gateways].reverse()),
    );
  });
});

describe('hostnameMatches: the Gateway API listener hostname rule', () => {
  const rows: [unknown, string, boolean][] = [
    [undefined, 'a.example.com', true],
    ['', 'a.example.com', true],
    ['a.example.com', 'a.example.com', true],
    ['A.Example.com.', 'a.example.com', true],
    ['b.example.com', 'a.example.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'x.a.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'aexample.com', false],
    [42, 'a.example.com', false],
  ];
  for (const [hostname, host, matches] of rows) {
    test(`${JSON.stringify(hostname)} ${matches ? 'matches' : 'does not match'} ${host}`, () => {
      assert.equal(hostnameMatches(hostname, host), matches);
    });
  }
});
