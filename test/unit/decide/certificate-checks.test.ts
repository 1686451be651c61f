/** Layer: unit. The check chain (jobs/decide/certificate-checks.ts): order, reasons, messages. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CERTIFICATE_CHECKS,
  evaluateCertificate,
  type CheckInput,
} from '../../../jobs/decide/certificate-checks.js';
import {
  parseSecret,
  readCertificateFacts,
  readSecretFacts,
  recordSecretFacts,
} from '../../../jobs/decide/certificate-facts.js';
import { decodeSecretFacts } from '../../../shared/secret-facts.js';
import type { KeyPolicy } from '../../../jobs/key-type.js';
import type { SecretView } from '../../../jobs/model.js';
import {
  DAY,
  HOUR,
  MINUTE,
  NOW,
  SECOND,
  at,
  certificate,
  encryptedKeyPem,
  keyPem,
  secret,
  tlsSecret,
  type CertificateSpec,
} from './fixtures.js';

const HOSTS = ['a.example', 'b.example'];
const DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
const RSA_2048: KeyPolicy = { keyType: 'rsa', rsaKeySize: 2048 };
const MINIMUM_VALIDITY = 720 * HOUR;

/** A healthy 90-day certificate issued 10 days ago. */
const GOOD: CertificateSpec = {
  key: 'rsa-a',
  dnsNames: ['b.example', 'a.example'],
  notBefore: at(-10 * DAY),
  notAfter: at(80 * DAY),
};

/** Every input the tests below built, for the last test (decisions from recorded facts). */
const built: CheckInput[] = [];

function input(
  secretView: SecretView | undefined,
  overrides: Partial<CheckInput> = {},
): CheckInput {
  const made: CheckInput = {
    secret: secretView === undefined ? undefined : parseSecret(secretView),
    hosts: HOSTS,
    directoryUrl: DIRECTORY,
    keyPolicy: RSA_2048,
    minimumValidityMs: MINIMUM_VALIDITY,
    ...overrides,
  };
  built.push(made);
  return made;
}

test('the chain has this order', () => {
  assert.deepEqual(
    CERTIFICATE_CHECKS.map((c) => c.name),
    [
      'secretDoesNotExist',
      'certificateDataIsMissing',
      'certificateIsUnparseable',
      'privateKeyIsUnparseable',
      'chainIsNotLeafFirst',
      'privateKeyDoesNotMatchCertificate',
      'certificateDoesNotCoverHosts',
      'certificateHasExpired',
      'certificateIsSelfSigned',
      'renewalWindowReached',
      'certificateNearsExpiry',
      'issuedThroughOtherDirectory',
      'keyDoesNotMatchPolicy',
      'renewalWasRequested',
    ],
  );
});

describe('each check is the first to fail for its row', () => {
  const goodPem = certificate(GOOD);
  const rows: { check: string; reason: string; input: () => CheckInput }[] = [
    { check: 'secretDoesNotExist', reason: 'SecretMissing', input: () => input(undefined) },
    {
      check: 'certificateDataIsMissing',
      reason: 'CertificateDataMissing',
      input: () => input(secret({ data: { 'tls.crt': ' \n', 'tls.key': keyPem('rsa-a') } })),
    },
    {
      check: 'certificateIsUnparseable',
      reason: 'CertificateUnparseable',
      input: () =>
        input(secret({ data: { 'tls.crt': 'not a certificate', 'tls.key': keyPem('rsa-a') } })),
    },
    {
      check: 'privateKeyIsUnparseable',
      reason: 'PrivateKeyUnparseable',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': goodPem,
              'tls.key': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
            },
          }),
        ),
    },
    {
      check: 'chainIsNotLeafFirst',
      reason: 'ChainNotLeafFirst',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': certificate({ ...GOOD, key: 'rsa-b', ca: true }) + goodPem,
              'tls.key': keyPem('rsa-a'),
            },
          }),
        ),
    },
    {
      check: 'privateKeyDoesNotMatchCertificate',
      reason: 'PrivateKeyMismatch',
      input: () => input(secret({ data: { 'tls.crt': goodPem, 'tls.key': keyPem('rsa-b') } })),
    },
    {
      check: 'certificateDoesNotCoverHosts',
      reason: 'HostsChanged',
      input: () => input(tlsSecret({ ...GOOD, dnsNames: ['a.example'] })),
    },
    {
      check: 'certificateHasExpired',
      reason: 'Expired',
      input: () => input(tlsSecret({ ...GOOD, notBefore: at(-91 * DAY), notAfter: at(-1 * DAY) })),
    },
    {
      check: 'certificateIsSelfSigned',
      reason: 'SelfSigned',
      // The one-year placeholder some charts create: right hosts, matching key, long valid.
      input: () =>
        input(
          tlsSecret({ ...GOOD, selfSigned: true, notBefore: at(-DAY), notAfter: at(364 * DAY) }),
        ),
    },
    {
      // The ARI window's drawn time has come, long before the lifetime rule would renew.
      check: 'renewalWindowReached',
      reason: 'RenewalWindowReached',
      input: () =>
        input(tlsSecret(GOOD), {
          renewalWindow: { start: at(-1 * DAY), end: at(1 * DAY), renewAt: at(-1 * HOUR) },
        }),
    },
    {
      check: 'certificateNearsExpiry',
      reason: 'RenewalDue',
      input: () => input(tlsSecret({ ...GOOD, notBefore: at(-61 * DAY), notAfter: at(29 * DAY) })),
    },
    {
      check: 'issuedThroughOtherDirectory',
      reason: 'DirectoryChanged',
      input: () =>
        input(
          tlsSecret(GOOD, {
            annotations: {
              'kube-lego.io/directory-url':
                'https://acme-staging-v02.api.letsencrypt.org/directory',
            },
          }),
        ),
    },
    {
      check: 'keyDoesNotMatchPolicy',
      reason: 'KeyTypeChanged',
      input: () => input(tlsSecret(GOOD), { keyPolicy: { keyType: 'rsa', rsaKeySize: 4096 } }),
    },
    {
      // A valid certificate that an operator asked to renew (`kube-lego renew`).
      check: 'renewalWasRequested',
      reason: 'RenewalRequested',
      input: () => input(tlsSecret(GOOD), { renewalRequested: true }),
    },
  ];

  test('there is one row per check', () => {
    assert.deepEqual(
      rows.map((r) => r.check),
      CERTIFICATE_CHECKS.map((c) => c.name),
    );
  });

  for (const row of rows) {
    test(`${row.check} → ${row.reason}`, () => {
      const given = row.input();
      const position = CERTIFICATE_CHECKS.findIndex((c) => c.name === row.check);
      for (const earlier of CERTIFICATE_CHECKS.slice(0, position)) {
        assert.equal(earlier.check(given, NOW), undefined, `${earlier.name} must pass`);
      }
      assert.equal(CERTIFICATE_CHECKS[position]?.check(given, NOW)?.reason, row.reason);
      assert.equal(CERTIFICATE_CHECKS[position]?.reason, row.reason, 'the reason the table names');
      const evaluation = evaluateCertificate(given, NOW);
      assert.equal(evaluation.needed, true);
      if (!evaluation.needed) return;
      assert.equal(evaluation.reason, row.reason);
      assert.match(evaluation.message, /\.$/, 'a sentence');
    });
  }

  test('a healthy certificate passes every check', () => {
    const given = input(tlsSecret(GOOD));
    for (const { name, check } of CERTIFICATE_CHECKS)
      assert.equal(check(given, NOW), undefined, name);
    assert.deepEqual(evaluateCertificate(given, NOW), { needed: false });
  });
});

describe('variants of each condition', () => {
  const goodPem = certificate(GOOD);
  const otherPem = certificate({ ...GOOD, key: 'rsa-b', dnsNames: ['other.example'] });
  const rows: {
    name: string;
    input: () => CheckInput;
    reason: string | undefined;
    mentions?: string[];
  }[] = [
    {
      name: 'tls.key missing',
      input: () => input(secret({ data: { 'tls.crt': goodPem } })),
      reason: 'CertificateDataMissing',
      mentions: ['shop/web-tls', 'tls.key'],
    },
    {
      name: 'both missing (an empty Secret)',
      input: () => input(secret()),
      reason: 'CertificateDataMissing',
      mentions: ['tls.crt and no tls.key'],
    },
    {
      name: 'a PEM block with damaged contents',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': goodPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!'),
              'tls.key': keyPem('rsa-a'),
            },
          }),
        ),
      reason: 'CertificateUnparseable',
    },
    {
      name: 'a good leaf followed by a damaged intermediate',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': `${goodPem}-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`,
              'tls.key': keyPem('rsa-a'),
            },
          }),
        ),
      reason: 'CertificateUnparseable',
    },
    {
      name: 'a chain: the first certificate is the leaf',
      input: () =>
        input(secret({ data: { 'tls.crt': goodPem + otherPem, 'tls.key': keyPem('rsa-a') } })),
      reason: undefined,
    },
    {
      name: 'a chain in the wrong order: said so, not taken for a wrong key',
      input: () =>
        input(secret({ data: { 'tls.crt': otherPem + goodPem, 'tls.key': keyPem('rsa-a') } })),
      reason: 'ChainNotLeafFirst',
    },
    {
      name: 'a PKCS#1 RSA key is read',
      input: () =>
        input(secret({ data: { 'tls.crt': goodPem, 'tls.key': keyPem('rsa-a', 'legacy') } })),
      reason: undefined,
    },
    {
      name: 'an encrypted key cannot be read',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': goodPem,
              'tls.key': encryptedKeyPem('rsa-a'),
            },
          }),
        ),
      reason: 'PrivateKeyUnparseable',
    },
    {
      name: 'an EC key that does not match an EC certificate',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': certificate({ ...GOOD, key: 'p256-a' }),
              'tls.key': keyPem('p256-b'),
            },
          }),
          { keyPolicy: { keyType: 'ecdsa-p256', rsaKeySize: 2048 } },
        ),
      reason: 'PrivateKeyMismatch',
    },
    {
      name: 'an EC key that matches, in SEC1 encoding',
      input: () =>
        input(
          secret({
            data: {
              'tls.crt': certificate({ ...GOOD, key: 'p256-a' }),
              'tls.key': keyPem('p256-a', 'legacy'),
            },
          }),
          { keyPolicy: { keyType: 'ecdsa-p256', rsaKeySize: 2048 } },
        ),
      reason: undefined,
    },
    {
      name: 'an extra name counts as a change',
      input: () =>
        input(tlsSecret({ ...GOOD, dnsNames: ['a.example', 'b.example', 'old.example'] })),
      reason: 'HostsChanged',
      mentions: ['old.example'],
    },
    {
      name: 'a missing and an extra name are both named',
      input: () => input(tlsSecret({ ...GOOD, dnsNames: ['a.example', 'old.example'] })),
      reason: 'HostsChanged',
      mentions: ['does not cover b.example', 'also covers old.example'],
    },
    {
      name: 'names are compared case-insensitively',
      input: () => input(tlsSecret({ ...GOOD, dnsNames: ['A.EXAMPLE', 'b.example'] })),
      reason: undefined,
    },
    {
      name: 'a certificate without SANs covers nothing (the CN does not count)',
      input: () =>
        input(tlsSecret({ ...GOOD, dnsNames: [], commonName: 'a.example' }), {
          hosts: ['a.example'],
        }),
      reason: 'HostsChanged',
    },
    {
      name: 'punycode names match',
      input: () =>
        input(tlsSecret({ ...GOOD, dnsNames: ['xn--bcher-kva.example'] }), {
          hosts: ['xn--bcher-kva.example'],
        }),
      reason: undefined,
    },
    {
      name: 'expired exactly now',
      input: () => input(tlsSecret({ ...GOOD, notBefore: at(-90 * DAY), notAfter: NOW })),
      reason: 'Expired',
      mentions: [NOW.toISOString()],
    },
    {
      name: 'one second before expiry it is only due for renewal',
      input: () => input(tlsSecret({ ...GOOD, notBefore: at(-90 * DAY), notAfter: at(SECOND) })),
      reason: 'RenewalDue',
    },
    {
      name: 'the same directory',
      input: () =>
        input(tlsSecret(GOOD, { annotations: { 'kube-lego.io/directory-url': DIRECTORY } })),
      reason: undefined,
    },
    {
      name: 'no directory annotation (e.g. written by kube-lego): not a change',
      input: () => input(tlsSecret(GOOD, { annotations: {} })),
      reason: undefined,
    },
    {
      name: 'an RSA key when ECDSA P-256 is wanted',
      input: () =>
        input(tlsSecret(GOOD), { keyPolicy: { keyType: 'ecdsa-p256', rsaKeySize: 2048 } }),
      reason: 'KeyTypeChanged',
      mentions: ['RSA 2048', 'ECDSA P-256'],
    },
    {
      name: 'a P-256 key when P-384 is wanted',
      input: () =>
        input(tlsSecret({ ...GOOD, key: 'p256-a' }), {
          keyPolicy: { keyType: 'ecdsa-p384', rsaKeySize: 2048 },
        }),
      reason: 'KeyTypeChanged',
      mentions: ['ECDSA P-256', 'ECDSA P-384'],
    },
    {
      name: 'a P-384 key when P-384 is wanted',
      input: () =>
        input(tlsSecret({ ...GOOD, key: 'p384' }), {
          keyPolicy: { keyType: 'ecdsa-p384', rsaKeySize: 2048 },
        }),
      reason: undefined,
    },
    {
      name: 'an EC key when RSA is wanted',
      input: () => input(tlsSecret({ ...GOOD, key: 'p256-a' })),
      reason: 'KeyTypeChanged',
      mentions: ['ECDSA P-256', 'RSA 2048'],
    },
    {
      name: 'the Secret type is not this chain’s concern',
      input: () => input(tlsSecret(GOOD, { type: 'Opaque' })),
      reason: undefined,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const evaluation = evaluateCertificate(row.input(), NOW);
      assert.equal(evaluation.needed ? evaluation.reason : undefined, row.reason);
      if (!evaluation.needed) return;
      for (const text of row.mentions ?? [])
        assert.ok(evaluation.message.includes(text), evaluation.message);
    });
  }
});

describe('renewal threshold on real certificates', () => {
  // Each row: a certificate of `lifetime`, seen when `remaining` is left.
  const rows: {
    name: string;
    lifetime: number;
    remaining: number;
    minimum: number;
    due: boolean;
  }[] = [
    {
      name: '90 days, 30 days left: not yet',
      lifetime: 90 * DAY,
      remaining: 30 * DAY,
      minimum: 720 * HOUR,
      due: false,
    },
    {
      name: '90 days, 30 days − 1 s left: due',
      lifetime: 90 * DAY,
      remaining: 30 * DAY - SECOND,
      minimum: 720 * HOUR,
      due: true,
    },
    {
      name: '90 days, 45 days minimum: due at 44 days',
      lifetime: 90 * DAY,
      remaining: 44 * DAY,
      minimum: 45 * DAY,
      due: true,
    },
    {
      name: '90 days, 1 day minimum: a third still applies',
      lifetime: 90 * DAY,
      remaining: 29 * DAY,
      minimum: DAY,
      due: true,
    },
    {
      name: '6 days with 720h, just issued: not due',
      lifetime: 6 * DAY,
      remaining: 6 * DAY,
      minimum: 720 * HOUR,
      due: false,
    },
    {
      name: '6 days with 720h, 2 days + 1 s left: not due',
      lifetime: 6 * DAY,
      remaining: 2 * DAY + SECOND,
      minimum: 720 * HOUR,
      due: false,
    },
    {
      name: '6 days with 720h, 2 days − 1 s left: due',
      lifetime: 6 * DAY,
      remaining: 2 * DAY - SECOND,
      minimum: 720 * HOUR,
      due: true,
    },
    {
      name: '1 hour with 720h, 21 minutes left: not due',
      lifetime: HOUR,
      remaining: 21 * MINUTE,
      minimum: 720 * HOUR,
      due: false,
    },
    {
      name: '1 hour with 720h, 19 minutes left: due',
      lifetime: HOUR,
      remaining: 19 * MINUTE,
      minimum: 720 * HOUR,
      due: true,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const notAfter = at(row.remaining);
      const given = input(
        tlsSecret({ ...GOOD, notBefore: at(-row.lifetime, notAfter), notAfter }),
        { minimumValidityMs: row.minimum },
      );
      const evaluation = evaluateCertificate(given, NOW);
      assert.deepEqual(
        evaluation.needed ? evaluation.reason : undefined,
        row.due ? 'RenewalDue' : undefined,
      );
    });
  }

  test('the message states the time left and the threshold', () => {
    const notAfter = at(29 * DAY);
    const evaluation = evaluateCertificate(
      input(tlsSecret({ ...GOOD, notBefore: at(-90 * DAY, notAfter), notAfter })),
      NOW,
    );
    assert.ok(evaluation.needed);
    assert.match(evaluation.message, /in 696h0m0s/);
    assert.match(evaluation.message, /less than 720h0m0s remains/);
  });

  test('the message of a short-lived certificate explains why the minimum is ignored', () => {
    const notAfter = at(DAY);
    const evaluation = evaluateCertificate(
      input(tlsSecret({ ...GOOD, notBefore: at(-6 * DAY, notAfter), notAfter })),
      NOW,
    );
    assert.ok(evaluation.needed);
    assert.match(evaluation.message, /less than 48h0m0s remains/);
    assert.match(evaluation.message, /a third of its 144h0m0s lifetime/);
  });
});

describe('readCertificateFacts', () => {
  test('reads the leaf of an RSA chain', () => {
    const facts = readCertificateFacts(
      secret({
        data: {
          'tls.crt':
            certificate(GOOD) + certificate({ ...GOOD, key: 'rsa-b', dnsNames: ['ca.example'] }),
        },
      }),
    );
    assert.deepEqual(
      facts && { ...facts, serialNumber: typeof facts.serialNumber, issuer: typeof facts.issuer },
      {
        notBefore: GOOD.notBefore,
        notAfter: GOOD.notAfter,
        dnsNames: ['a.example', 'b.example'],
        ipAddresses: [],
        serialNumber: 'string',
        issuer: 'string',
        key: { kind: 'rsa', bits: 2048 },
        chainLength: 2,
        selfSigned: false,
      },
    );
  });

  test('reads an EC P-384 certificate', () => {
    const facts = readCertificateFacts(tlsSecret({ ...GOOD, key: 'p384' }));
    assert.deepEqual(facts?.key, { kind: 'ec', curve: 'P-384' });
    assert.deepEqual(facts.notAfter, GOOD.notAfter);
  });

  const absent: { name: string; secret: SecretView | undefined }[] = [
    { name: 'no Secret', secret: undefined },
    { name: 'no tls.crt', secret: secret() },
    { name: 'an unparseable tls.crt', secret: secret({ data: { 'tls.crt': 'garbage' } }) },
  ];
  for (const row of absent) {
    test(`undefined for ${row.name}`, () => {
      assert.equal(readCertificateFacts(row.secret), undefined);
    });
  }
});

// Runs last: it goes over every input the tests above built (node:test runs a file's tests in
// order), so each fixture of this file is decided twice.
describe('facts recorded in the status decide as parsing does', () => {
  test('every check and the chain give the same answers from recorded facts (read, or handed over by the gather step without PEMs) as from parsed ones', () => {
    assert.ok(built.length > 40, `the tests above built ${built.length} inputs`);
    let recorded = 0;
    for (const [i, parsedInput] of built.entries()) {
      const parsed = parsedInput.secret;
      if (parsed === undefined) continue;
      const record = recordSecretFacts(parsed);
      if (record === undefined) {
        // Nothing to record: such a Secret is parsed again on the next run.
        assert.ok(
          parsed.facts === undefined ||
            parsed.privateKey === undefined ||
            parsed.keyCertificateIndex === undefined,
          `input ${i}: only an unreadable Secret has no record`,
        );
        continue;
      }
      // Through the stored form, as the next run reads it.
      const stored = decodeSecretFacts(JSON.parse(JSON.stringify(record)));
      assert.deepEqual(stored, record, `input ${i}: the record survives JSON`);
      const cached = readSecretFacts(parsed.view, stored);
      assert.equal(cached.source, 'recorded', `input ${i}: read without parsing`);
      recorded++;
      // The hash is what parsing leaves for a record; a record has it already.
      const { source: _a, recorded: _b, ...fromRecord } = cached;
      const { source: _c, recorded: _d, certificateHash: _e, ...fromParse } = parsed;
      assert.deepEqual(fromRecord, fromParse, `input ${i}: the same facts`);
      // As the gather step hands over a Secret the record describes: no PEM, the record.
      const elidedView = { ...parsed.view, data: {}, recorded: stored };
      const elided = readSecretFacts(elidedView, undefined);
      assert.deepEqual(
        elided,
        { ...cached, view: elidedView },
        `input ${i}: from the view's record`,
      );
      assert.deepEqual(parseSecret(elidedView), elided, `input ${i}: parseSecret reads it alike`);
      for (const secret of [cached, elided]) {
        const cachedInput: CheckInput = { ...parsedInput, secret };
        for (const now of [NOW, at(-20 * DAY), at(60 * DAY), at(85 * DAY), at(400 * DAY)]) {
          assert.deepEqual(
            evaluateCertificate(cachedInput, now),
            evaluateCertificate(parsedInput, now),
            `input ${i} at ${now.toISOString()}: the same decision`,
          );
          for (const { name, check } of CERTIFICATE_CHECKS)
            assert.deepEqual(
              check(cachedInput, now),
              check(parsedInput, now),
              `input ${i}, ${name} at ${now.toISOString()}`,
            );
        }
      }
    }
    assert.ok(recorded > 20, `${recorded} inputs were decided from recorded facts`);
  });

  test('a changed Secret is parsed again: another resourceVersion, or another certificate', () => {
    const view = tlsSecret(GOOD);
    const record = recordSecretFacts(parseSecret(view))!;
    assert.equal(readSecretFacts(view, record).source, 'recorded');
    assert.equal(
      readSecretFacts({ ...view, resourceVersion: `${view.resourceVersion}0` }, record).source,
      'parsed',
    );
    const renewed = tlsSecret({ ...GOOD, notAfter: at(81 * DAY) });
    const sameVersion = { ...renewed, resourceVersion: view.resourceVersion };
    const reread = readSecretFacts(sameVersion, record);
    assert.equal(reread.source, 'parsed', 'the certificate hash differs');
    assert.equal(reread.facts?.notAfter.toISOString(), at(81 * DAY).toISOString());
    assert.equal(readSecretFacts(view, undefined).source, 'parsed');
  });

  test('an unreadable record is no record', () => {
    const record = recordSecretFacts(parseSecret(tlsSecret(GOOD)))!;
    for (const broken of [
      { ...record, notAfter: 'soon' },
      { ...record, keyCertificateIndex: record.chainLength },
      { ...record, resourceVersion: '' },
      { ...record, dnsNames: [1] },
      'text',
      null,
    ])
      assert.equal(decodeSecretFacts(broken), undefined, JSON.stringify(broken));
  });
});
