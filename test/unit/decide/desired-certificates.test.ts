/** Layer: unit. From annotated Ingresses to desired certificates (jobs/decide/desired-certificates.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  collectCertificates,
  type CollectSettings,
} from '../../../jobs/decide/desired-certificates.js';
import type { IngressView } from '../../../jobs/model.js';

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

function ingress(
  namespace: string,
  name: string,
  tls: IngressView['tls'],
  overrides: Partial<IngressView> = {},
): IngressView {
  return {
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    resourceVersion: '1',
    annotations: { 'kubernetes.io/tls-acme': 'true' },
    ingressClassName: undefined,
    tls,
    ...overrides,
  };
}

function ref(namespace: string, name: string, index = 0) {
  return { kind: 'Ingress' as const, namespace, name, uid: `uid-${namespace}-${name}`, index };
}

describe('collectCertificates: which Ingresses are considered', () => {
  const rows: {
    name: string;
    annotations: Record<string, string>;
    considered: boolean;
    /** Another value than "true": listed as skipped with its reason. */
    notTrue?: boolean;
  }[] = [
    {
      name: 'annotation "true"',
      annotations: { 'kubernetes.io/tls-acme': 'true' },
      considered: true,
    },
    {
      name: 'annotation "True" (kube-lego lower-cased the value: it counts)',
      annotations: { 'kubernetes.io/tls-acme': 'True' },
      considered: true,
    },
    {
      name: 'annotation "TRUE"',
      annotations: { 'kubernetes.io/tls-acme': 'TRUE' },
      considered: true,
    },
    {
      name: 'annotation "yes"',
      annotations: { 'kubernetes.io/tls-acme': 'yes' },
      considered: false,
      notTrue: true,
    },
    {
      name: 'annotation "false"',
      annotations: { 'kubernetes.io/tls-acme': 'false' },
      considered: false,
      notTrue: true,
    },
    {
      name: 'annotation " true"',
      annotations: { 'kubernetes.io/tls-acme': ' true' },
      considered: false,
      notTrue: true,
    },
    { name: 'no annotation', annotations: {}, considered: false },
    {
      name: 'another annotation key',
      annotations: { 'example.com/tls-acme': 'true' },
      considered: false,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = collectCertificates(
        [
          ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }], {
            annotations: row.annotations,
          }),
        ],
        SETTINGS,
      );
      assert.equal(result.certificates.length, row.considered ? 1 : 0);
      if (row.notTrue) {
        assert.deepEqual(
          result.skipped.map((s) => [s.name, s.reason]),
          [['web', 'AnnotationNotTrue']],
        );
        assert.match(result.skipped[0]!.message, /annotation is ".*", not "true"/);
      } else {
        assert.deepEqual(result.skipped, [], 'ignored Ingresses are not reported as skipped');
      }
      assert.deepEqual(result.invalid, []);
    });
  }

  test('another value on an Ingress without TLS entries is ignored silently', () => {
    const result = collectCertificates(
      [ingress('shop', 'web', [], { annotations: { 'kubernetes.io/tls-acme': '1' } })],
      SETTINGS,
    );
    assert.deepEqual(result.skipped, []);
  });

  test('the annotation key comes from the settings', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }], {
          annotations: { 'example.com/acme': 'true' },
        }),
      ],
      { ...SETTINGS, kubeAnnotation: 'example.com/acme' },
    );
    assert.equal(result.certificates.length, 1);
  });
});

describe('collectCertificates: one certificate', () => {
  test('hosts sorted, Common Name from the entry order, class and provider resolved', () => {
    const result = collectCertificates(
      [
        ingress(
          'shop',
          'web',
          [{ hosts: ['www.example', 'Bücher.example', 'a.example'], secretName: 'web-tls' }],
          {
            ingressClassName: 'gce',
          },
        ),
      ],
      SETTINGS,
    );
    assert.deepEqual(result, {
      certificates: [
        {
          namespace: 'shop',
          secretName: 'web-tls',
          hosts: ['a.example', 'www.example', 'xn--bcher-kva.example'],
          commonName: 'www.example',
          requesters: [ref('shop', 'web')],
          ingressClass: 'gce',
          provider: 'gce',
        },
      ],
      invalid: [],
      skipped: [],
    });
  });
});

describe('collectCertificates: skipped Ingresses', () => {
  const rows: { name: string; ingress: IngressView; reason: string }[] = [
    { name: 'no spec.tls', ingress: ingress('shop', 'web', []), reason: 'NoTlsEntries' },
    {
      name: 'unsupported class',
      ingress: ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }], {
        ingressClassName: 'traefik',
      }),
      reason: 'UnsupportedIngressClass',
    },
    {
      name: 'unsupported provider',
      ingress: ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }], {
        annotations: {
          'kubernetes.io/tls-acme': 'true',
          'kubernetes.io/ingress.provider': 'traefik',
        },
      }),
      reason: 'UnsupportedIngressProvider',
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = collectCertificates([row.ingress], SETTINGS);
      assert.deepEqual(result.certificates, []);
      assert.deepEqual(result.invalid, []);
      assert.deepEqual(
        result.skipped.map((s) => [s.namespace, s.name, s.reason]),
        [['shop', 'web', row.reason]],
      );
      assert.notEqual(result.skipped[0]?.message, '');
    });
  }
});

describe('collectCertificates: invalid TLS entries', () => {
  const rows: {
    name: string;
    entry: IngressView['tls'][number];
    reason: string;
    secretName: string | undefined;
  }[] = [
    {
      name: 'no secretName',
      entry: { hosts: ['a.example'] },
      reason: 'NoSecretName',
      secretName: undefined,
    },
    {
      name: 'empty secretName',
      entry: { hosts: ['a.example'], secretName: '' },
      reason: 'NoSecretName',
      secretName: undefined,
    },
    {
      name: 'secretName not a string',
      entry: { hosts: ['a.example'], secretName: 7 },
      reason: 'InvalidSecretName',
      secretName: undefined,
    },
    {
      name: 'secretName with upper case',
      entry: { hosts: ['a.example'], secretName: 'Web-TLS' },
      reason: 'InvalidSecretName',
      secretName: 'Web-TLS',
    },
    {
      name: 'secretName with a space',
      entry: { hosts: ['a.example'], secretName: ' web-tls' },
      reason: 'InvalidSecretName',
      secretName: ' web-tls',
    },
    {
      name: 'secretName too long',
      entry: { hosts: ['a.example'], secretName: 'a'.repeat(254) },
      reason: 'InvalidSecretName',
      secretName: 'a'.repeat(254),
    },
    {
      name: 'no hosts',
      entry: { secretName: 'web-tls' },
      reason: 'NoHosts',
      secretName: 'web-tls',
    },
    {
      name: 'a wildcard host',
      entry: { hosts: ['*.example'], secretName: 'web-tls' },
      reason: 'WildcardHost',
      secretName: 'web-tls',
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = collectCertificates(
        [ingress('shop', 'web', [{ hosts: ['ok.example'], secretName: 'ok-tls' }, row.entry])],
        SETTINGS,
      );
      assert.deepEqual(
        result.certificates.map((c) => c.secretName),
        ['ok-tls'],
        'the other entry of the Ingress still gets its certificate',
      );
      assert.equal(result.invalid.length, 1);
      const [entry] = result.invalid;
      assert.deepEqual(entry?.ref, ref('shop', 'web', 1));
      assert.equal(entry?.reason, row.reason);
      assert.equal(entry?.secretName, row.secretName);
    });
  }
});

describe('collectCertificates: entries that share a Secret', () => {
  test('identical host sets (in any order, any spelling) share one certificate', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web-b', [{ hosts: ['b.example', 'a.example'], secretName: 'web-tls' }]),
        ingress('shop', 'web-a', [{ hosts: ['A.example', 'b.example.'], secretName: 'web-tls' }]),
      ],
      SETTINGS,
    );
    assert.deepEqual(result.invalid, []);
    assert.equal(result.certificates.length, 1);
    const [certificate] = result.certificates;
    assert.deepEqual(certificate?.hosts, ['a.example', 'b.example']);
    assert.deepEqual(certificate?.requesters, [ref('shop', 'web-a'), ref('shop', 'web-b')]);
    assert.equal(certificate?.commonName, 'a.example', "from the first entry's order (web-a)");
  });

  test('two entries of one Ingress with the same hosts share one certificate', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web', [
          { hosts: ['a.example'], secretName: 'web-tls' },
          { hosts: ['a.example'], secretName: 'web-tls' },
        ]),
      ],
      SETTINGS,
    );
    assert.deepEqual(result.certificates[0]?.requesters, [
      ref('shop', 'web', 0),
      ref('shop', 'web', 1),
    ]);
  });

  test('different host sets for one Secret: every entry is invalid, no certificate', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }]),
        ingress('shop', 'api', [{ hosts: ['a.example', 'api.example'], secretName: 'web-tls' }]),
        ingress('shop', 'other', [{ hosts: ['o.example'], secretName: 'other-tls' }]),
      ],
      SETTINGS,
    );
    assert.deepEqual(
      result.certificates.map((c) => c.secretName),
      ['other-tls'],
    );
    assert.deepEqual(
      result.invalid.map((i) => [i.ref.name, i.secretName, i.reason]),
      [
        ['api', 'web-tls', 'SecretNameConflict'],
        ['web', 'web-tls', 'SecretNameConflict'],
      ],
    );
    const [api, web] = result.invalid;
    assert.match(api?.message ?? '', /Ingress shop\/web spec\.tls\[0\]/);
    assert.doesNotMatch(
      api?.message ?? '',
      /Ingress shop\/api/,
      'names the other Ingress, not itself',
    );
    assert.match(web?.message ?? '', /Ingress shop\/api spec\.tls\[0\]/);
  });

  test('a conflict within one Ingress names the other entry', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web', [
          { hosts: ['a.example'], secretName: 'web-tls' },
          { hosts: ['b.example'], secretName: 'web-tls' },
        ]),
      ],
      SETTINGS,
    );
    assert.deepEqual(result.certificates, []);
    assert.deepEqual(
      result.invalid.map((i) => [i.ref.index, i.reason]),
      [
        [0, 'SecretNameConflict'],
        [1, 'SecretNameConflict'],
      ],
    );
    assert.match(result.invalid[0]?.message ?? '', /spec\.tls\[1\]/);
  });

  test('three entries, one differing: all three are invalid', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'a', [{ hosts: ['a.example'], secretName: 'web-tls' }]),
        ingress('shop', 'b', [{ hosts: ['a.example'], secretName: 'web-tls' }]),
        ingress('shop', 'c', [{ hosts: ['c.example'], secretName: 'web-tls' }]),
      ],
      SETTINGS,
    );
    assert.deepEqual(result.certificates, []);
    assert.deepEqual(
      result.invalid.map((i) => i.ref.name),
      ['a', 'b', 'c'],
    );
  });

  test('the same Secret name in different namespaces is not a conflict', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }]),
        ingress('blog', 'web', [{ hosts: ['b.example'], secretName: 'web-tls' }]),
      ],
      SETTINGS,
    );
    assert.deepEqual(result.invalid, []);
    assert.deepEqual(
      result.certificates.map((c) => [c.namespace, c.hosts]),
      [
        ['blog', ['b.example']],
        ['shop', ['a.example']],
      ],
    );
  });

  test('an invalid entry takes no part in grouping', () => {
    const result = collectCertificates(
      [
        ingress('shop', 'web', [{ hosts: ['a.example'], secretName: 'web-tls' }]),
        ingress('shop', 'bad', [{ hosts: ['*.example'], secretName: 'web-tls' }]),
      ],
      SETTINGS,
    );
    assert.deepEqual(
      result.certificates.map((c) => c.hosts),
      [['a.example']],
    );
    assert.deepEqual(
      result.invalid.map((i) => [i.ref.name, i.reason]),
      [['bad', 'WildcardHost']],
    );
  });
});

describe('collectCertificates: deterministic order', () => {
  const ingresses = [
    ingress('shop', 'z', [
      { hosts: ['z.example'], secretName: 'z-tls' },
      { hosts: [], secretName: 'bad' },
    ]),
    ingress('blog', 'b', [{ hosts: ['b.example'], secretName: 'b-tls' }]),
    ingress('shop', 'a', [{ hosts: ['a.example'], secretName: 'a-tls' }, { secretName: 'x' }]),
    ingress('blog', 'none', []),
    ingress('app', 'none', []),
  ];

  test('sorted by namespace and Secret name, independent of input order', () => {
    const forward = collectCertificates(ingresses, SETTINGS);
    const backward = collectCertificates([...ingresses].reverse(), SETTINGS);
    assert.deepEqual(forward, backward);
    assert.deepEqual(
      forward.certificates.map((c) => `${c.namespace}/${c.secretName}`),
      ['blog/b-tls', 'shop/a-tls', 'shop/z-tls'],
    );
    assert.deepEqual(
      forward.invalid.map((i) => `${i.ref.namespace}/${i.ref.name}[${i.ref.index}]`),
      ['shop/a[1]', 'shop/z[1]'],
    );
    assert.deepEqual(
      forward.skipped.map((s) => `${s.namespace}/${s.name}`),
      ['app/none', 'blog/none'],
    );
  });
});
