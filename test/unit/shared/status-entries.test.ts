/** Layer: unit. The status ConfigMap format (shared/status-entries.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  appendAttempt,
  COMPRESSED_KEY,
  decodeStatus,
  encodeStatus,
  HISTORY_LIMIT,
  requestKey,
  RUN_KEY,
  shortMessage,
  statusKey,
  type CertificateStatus,
  type RunStatus,
} from '../../../shared/status-entries.js';

const RUN: RunStatus = {
  startedAt: '2025-06-01T00:00:00.000Z',
  finishedAt: '2025-06-01T00:01:00.000Z',
  result: 'Failed',
  entries: 3,
  issued: 1,
  renewed: 0,
  valid: 1,
  skipped: 2,
  failed: 1,
};

function certificate(overrides: Partial<CertificateStatus> = {}): CertificateStatus {
  return {
    namespace: 'shop',
    secretName: 'web-tls',
    ingresses: ['shop/web'],
    hosts: ['a.example', 'b.example'],
    notAfter: '2025-08-30T00:00:00.000Z',
    result: 'Issued',
    reason: 'SecretMissing',
    message: 'Certificate stored.',
    checkedAt: '2025-06-01T00:00:30.000Z',
    failures: 0,
    ...overrides,
  };
}

const FAILED = certificate({
  namespace: 'blog',
  secretName: 'blog-tls',
  ingresses: ['blog/blog'],
  hosts: ['blog.example'],
  notAfter: null,
  result: 'Failed',
  reason: 'AcmeRateLimited',
  message: 'Too many certificates.',
  failures: 2,
  lastFailureAt: '2025-06-01T00:00:40.000Z',
  retryAfter: '2025-06-01T02:00:40.000Z',
  failedHosts: ['blog.example'],
});

describe('status entries', () => {
  test('the key of a certificate is <namespace>.<secretName>; it never equals RUN_KEY', () => {
    assert.equal(statusKey('shop', 'web-tls'), 'shop.web-tls');
    assert.equal(RUN_KEY, 'run');
    assert.ok(statusKey('run', 'x').includes('.'));
  });

  test('encode then decode gives the certificates (sorted by key) and the run back', () => {
    const certificates = [certificate(), FAILED];
    const data = encodeStatus(certificates, RUN);
    assert.deepEqual(Object.keys(data).sort(), ['blog.blog-tls', 'run', 'shop.web-tls']);
    assert.deepEqual(decodeStatus(data), {
      certificates: [FAILED, certificate()],
      run: RUN,
      requests: [],
      malformed: [],
    });
  });

  test('absent data decodes to nothing', () => {
    assert.deepEqual(decodeStatus(undefined), {
      certificates: [],
      run: undefined,
      requests: [],
      malformed: [],
    });
  });

  test('missing optional fields get their defaults', () => {
    const data = {
      'shop.web-tls': JSON.stringify({
        namespace: 'shop',
        secretName: 'web-tls',
        hosts: ['a.example'],
        notAfter: null,
        result: 'Valid',
      }),
    };
    const { certificates, malformed } = decodeStatus(data);
    assert.deepEqual(malformed, []);
    assert.deepEqual(certificates, [
      {
        namespace: 'shop',
        secretName: 'web-tls',
        hosts: ['a.example'],
        notAfter: null,
        result: 'Valid',
        ingresses: [],
        reason: '',
        message: '',
        checkedAt: '',
        failures: 0,
      },
    ]);
    const [first] = certificates;
    assert.ok(first && !('retryAfter' in first) && !('lastFailureAt' in first));
  });

  test('unreadable entries are reported by key and skipped; the others survive', () => {
    const good = certificate();
    const { certificates, run, malformed } = decodeStatus({
      [statusKey(good.namespace, good.secretName)]: JSON.stringify(good),
      'a.notjson': '{"namespace":',
      'a.array': '[]',
      'a.null': 'null',
      'a.nonamespace': JSON.stringify({ ...good, namespace: undefined }),
      'a.hostsnotarray': JSON.stringify({ ...good, hosts: 'a.example' }),
      'a.noresult': JSON.stringify({ ...good, result: undefined }),
      'a.notafternumber': JSON.stringify({ ...good, notAfter: 1 }),
      [RUN_KEY]: JSON.stringify(RUN),
    });
    assert.deepEqual(certificates, [good]);
    assert.deepEqual(run, RUN);
    assert.deepEqual(malformed.sort(), [
      'a.array',
      'a.hostsnotarray',
      'a.nonamespace',
      'a.noresult',
      'a.notafternumber',
      'a.notjson',
      'a.null',
    ]);
  });

  test('the run entry is read only from RUN_KEY and needs finishedAt', () => {
    assert.deepEqual(decodeStatus({ [RUN_KEY]: 'not json' }), {
      certificates: [],
      run: undefined,
      requests: [],
      malformed: [RUN_KEY],
    });
    assert.deepEqual(decodeStatus({ [RUN_KEY]: JSON.stringify({ ...RUN, finishedAt: 5 }) }), {
      certificates: [],
      run: undefined,
      requests: [],
      malformed: [RUN_KEY],
    });
    assert.deepEqual(decodeStatus({ [RUN_KEY]: '[]' }).malformed, [RUN_KEY]);
    // A run summary is not mistaken for a certificate, nor a certificate for the run.
    const asCertificate = decodeStatus({ 'x.run': JSON.stringify(RUN) });
    assert.equal(asCertificate.run, undefined);
    assert.deepEqual(asCertificate.malformed, ['x.run']);
    const asRun = decodeStatus({ [RUN_KEY]: JSON.stringify(certificate()) });
    assert.equal(asRun.run, undefined);
    assert.deepEqual(asRun.certificates, []);
  });

  test('certificates are sorted by key whatever the order of the data', () => {
    const a = certificate({ namespace: 'a', secretName: 'z' });
    const b = certificate({ namespace: 'b', secretName: 'a' });
    const c = certificate({ namespace: 'b', secretName: 'b' });
    const data = {
      'b.b': JSON.stringify(c),
      'a.z': JSON.stringify(a),
      'b.a': JSON.stringify(b),
    };
    assert.deepEqual(decodeStatus(data).certificates, [a, b, c]);
  });
});

test('a status key never exceeds the 253 characters of a ConfigMap key', async () => {
  const { statusKey } = await import('../../../shared/status-entries.js');
  const long = statusKey('n'.repeat(63), 's'.repeat(253));
  assert.ok(long.length <= 253);
  assert.match(long, /^[-._a-zA-Z0-9]+$/);
  assert.notEqual(long, statusKey('n'.repeat(63), `${'s'.repeat(252)}t`));
  assert.equal(statusKey('web', 'web-tls'), 'web.web-tls');
});

test('past the plain budget the certificates are written compressed, and read back the same', async () => {
  const { encodeStatus, decodeStatus, COMPRESSED_KEY, RUN_KEY } =
    await import('../../../shared/status-entries.js');
  const many = Array.from({ length: 5000 }, (_, i) => ({
    namespace: 'shop',
    secretName: `site-${String(i).padStart(4, '0')}-tls`,
    ingresses: [`shop/site-${i}`],
    hosts: [`site-${i}.example.com`],
    notAfter: '2027-02-28T00:00:00.000Z',
    result: 'Valid' as const,
    reason: 'UpToDate',
    message: `The certificate in Secret shop/site-${i}-tls covers site-${i}.example.com and is not due for renewal.`,
    checkedAt: '2026-11-30T00:00:00.000Z',
    failures: 0,
  }));
  const run = {
    startedAt: 'a',
    finishedAt: 'b',
    result: 'Succeeded' as const,
    entries: 5000,
    issued: 0,
    renewed: 0,
    valid: 5000,
    skipped: 0,
    failed: 0,
  };
  const data = encodeStatus(many, run);
  assert.deepEqual(Object.keys(data).sort(), [COMPRESSED_KEY, RUN_KEY].sort());
  const size = Object.entries(data).reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.ok(size < 256 * 1024, `fits a ConfigMap with room to spare (${size} bytes)`);
  const back = decodeStatus(data);
  assert.deepEqual(back.malformed, []);
  assert.deepEqual(back.run, run);
  assert.deepEqual(back.certificates, many);
  // A damaged blob is reported, never thrown.
  assert.deepEqual(decodeStatus({ [COMPRESSED_KEY]: 'not gzip' }).malformed, [COMPRESSED_KEY]);
  // A small set stays readable, one key per certificate.
  assert.ok(Object.keys(encodeStatus(many.slice(0, 3), run)).includes('shop.site-0000-tls'));
});

test('a status that fits no ConfigMap even in its smallest form is refused with what to do', async () => {
  const { encodeStatus, decodeStatus, CONFIGMAP_DATA_LIMIT_BYTES } =
    await import('../../../shared/status-entries.js');
  const { StatusTooLargeError } = await import('../../../shared/errors.js');
  const { randomBytes } = await import('node:crypto');
  // Random names: they compress as badly as real hosts do.
  const many = Array.from({ length: 3000 }, (_, i) => {
    const name = randomBytes(12).toString('hex');
    return certificate({
      secretName: `${name}-tls`,
      ingresses: [`shop/${name}`],
      hosts: [`${name}.example.com`],
      ...(i % 2 === 0 ? { nextAttemptAt: '2026-12-01T00:00:00.000Z' } : {}),
    });
  });
  const run = { ...RUN, entries: many.length };
  // Past the plain budget, compressed: about 60 KiB here; a limit below that cannot be met.
  const fits = encodeStatus(many, run);
  const size = Object.entries(fits).reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.ok(size < CONFIGMAP_DATA_LIMIT_BYTES);
  assert.equal(decodeStatus(fits).certificates.length, many.length);
  assert.throws(
    () => encodeStatus(many, run, size - 1),
    (error: unknown) => {
      assert.ok(error instanceof StatusTooLargeError);
      assert.equal(error.certificates, many.length);
      assert.equal(error.bytes, size);
      assert.equal(error.limit, size - 1);
      assert.match(
        error.message,
        /status of 3000 certificates takes \d+ bytes even compressed.*holds at most \d+: split the certificates between installations/,
      );
      return true;
    },
  );
  // At the limit exactly it is written.
  assert.deepEqual(encodeStatus(many, run, size), fits);
});

describe("issue 10: the last failure, the history and the operator's requests", () => {
  test('an entry written before these fields existed still reads, without them', () => {
    const old = JSON.stringify(FAILED);
    const [read] = decodeStatus({ 'blog.blog-tls': old }).certificates;
    assert.deepEqual(read, FAILED);
    assert.equal(read?.history, undefined);
    assert.equal(read?.lastFailureReason, undefined);
  });

  test('the recorded Secret facts round-trip; an unreadable record is dropped, not the entry', () => {
    const secretFacts = {
      resourceVersion: '4711',
      certificateHash: 'abcdefghijklmnop',
      notBefore: '2025-05-01T00:00:00.000Z',
      notAfter: '2025-07-30T00:00:00.000Z',
      dnsNames: ['a.example'],
      ipAddresses: ['192.0.2.7'],
      serialNumber: '0A1B',
      issuer: 'CN=Example CA',
      key: 'RSA 2048',
      chainLength: 2,
      selfSigned: false,
      certificateId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      privateKey: 'RSA 2048',
      keyCertificateIndex: 0,
    };
    const entry = certificate({ secretFacts });
    assert.deepEqual(decodeStatus(encodeStatus([entry], RUN)).certificates, [entry]);
    const damaged = decodeStatus({
      'shop.web-tls': JSON.stringify({ ...entry, secretFacts: { ...secretFacts, key: 7 } }),
    });
    assert.deepEqual(damaged.malformed, []);
    assert.equal(damaged.certificates[0]?.secretFacts, undefined);
    // A record without IP addresses (none were recorded before RFC 8738 support) is not read as
    // "no IP addresses": it is dropped, so the Secret is parsed again.
    const { ipAddresses: _dropped, ...withoutIps } = secretFacts;
    const older = decodeStatus({
      'shop.web-tls': JSON.stringify({ ...entry, secretFacts: withoutIps }),
    });
    assert.equal(older.certificates[0]?.secretFacts, undefined);
  });

  test('the new fields round-trip; unreadable history records are dropped, not the entry', () => {
    const entry = certificate({
      lastFailureReason: 'AcmeConnection',
      lastFailureMessage: 'connection refused',
      lastSuccessAt: '2025-06-01T00:00:30.000Z',
      keyType: 'ECDSA P-256',
      history: [{ at: 'a', result: 'Failed', reason: 'AcmeConnection', message: 'refused' }],
    });
    assert.deepEqual(decodeStatus(encodeStatus([entry], RUN)).certificates, [entry]);
    const damaged = decodeStatus({
      'shop.web-tls': JSON.stringify({ ...entry, history: [{ at: 1 }, ...entry.history!] }),
      'shop.other': JSON.stringify({ ...entry, secretName: 'other', history: 'x' }),
    });
    assert.deepEqual(damaged.malformed, []);
    assert.deepEqual(
      damaged.certificates.map((c) => c.history),
      [undefined, entry.history],
    );
  });

  test('appendAttempt keeps the last HISTORY_LIMIT attempts with short one-line messages', () => {
    let history = undefined as ReturnType<typeof appendAttempt> | undefined;
    for (let i = 0; i < HISTORY_LIMIT + 2; i++)
      history = appendAttempt(history, {
        at: String(i),
        result: 'Failed',
        reason: 'R',
        message: `line one\n  line two ${'x'.repeat(300)}`,
      });
    assert.equal(history?.length, HISTORY_LIMIT);
    assert.equal(history?.[0]?.at, '2');
    assert.equal(history?.at(-1)?.message.length, 200);
    assert.match(history?.at(-1)?.message ?? '', /^line one line two x+…$/);
    assert.equal(shortMessage('short'), 'short');
  });

  test('request keys are read as requests, never as certificates or malformed; they cannot collide', () => {
    const key = requestKey('renew', 'shop', 'web-tls');
    assert.equal(key, '_renew.shop.web-tls');
    const read = decodeStatus({
      [key]: 'now',
      [requestKey('retry', 'shop', 'web-tls')]: '2025-06-01T00:00:00Z',
      'shop.web-tls': JSON.stringify(certificate()),
    });
    assert.deepEqual(read.requests, [
      { kind: 'renew', key: '_renew.shop.web-tls', value: 'now' },
      { kind: 'retry', key: '_retry.shop.web-tls', value: '2025-06-01T00:00:00Z' },
    ]);
    assert.deepEqual(read.malformed, []);
    assert.equal(read.certificates.length, 1);
    // A namespace cannot start with `_`, so no certificate key is a request key; long names
    // keep a valid ConfigMap key.
    const long = requestKey('retry', 'n'.repeat(63), 's'.repeat(253));
    assert.ok(long.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(long));
    assert.notEqual(long, requestKey('retry', 'n'.repeat(63), `${'s'.repeat(252)}t`));
  });

  test('5,000 certificates with full histories still fit a ConfigMap (older attempts left out)', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      certificate({
        secretName: `site-${i}-tls`,
        hosts: [`site-${i}.example.com`],
        history: Array.from({ length: HISTORY_LIMIT }, (_, j) => ({
          at: new Date(Date.UTC(2025, 0, 1 + j, 0, 0, i % 60)).toISOString(),
          result: 'Failed' as const,
          reason: 'AcmeConnection',
          message: shortMessage(
            `Fetching http://site-${i}.example.com/.well-known/acme-challenge/<token>: Connection refused after ${i * j} ms ${'detail '.repeat(20)}`,
          ),
        })),
      }),
    );
    const data = encodeStatus(many, RUN);
    const size = Object.entries(data).reduce((n, [k, v]) => n + k.length + v.length, 0);
    assert.ok(size < 1024 * 1024 - 64 * 1024, `fits under 1 MiB (${size} bytes)`);
    const back = decodeStatus(data);
    assert.equal(back.certificates.length, 5000);
    assert.ok(COMPRESSED_KEY in data);
    assert.ok((back.certificates[0]?.history?.length ?? 0) >= 1, 'the last attempt is kept');
  });
});

test('the recorded Secret facts are given up first when the compressed entries would not fit', async () => {
  const { encodeStatus, decodeStatus, COMPRESSED_BUDGET_BYTES, COMPRESSED_KEY } =
    await import('../../../shared/status-entries.js');
  const { randomBytes } = await import('node:crypto');
  const attempt = {
    at: '2026-11-30T00:00:00.000Z',
    result: 'Issued' as const,
    reason: 'SecretMissing',
    message: 'ok',
  };
  const many = Array.from({ length: 20_000 }, (_, i) => ({
    namespace: 'shop',
    secretName: `site-${i}-tls`,
    ingresses: [`shop/site-${i}`],
    hosts: [`site-${i}.example.com`],
    notAfter: '2027-02-28T00:00:00.000Z',
    result: 'Valid' as const,
    reason: 'UpToDate',
    message: '',
    checkedAt: '2026-11-30T00:00:00.000Z',
    failures: 0,
    history: [attempt],
    // Random where real records are: the serial, the ARI identifier, the hash.
    secretFacts: {
      resourceVersion: String(100_000 + i),
      certificateHash: randomBytes(12).toString('base64url'),
      notBefore: '2026-11-30T00:00:00.000Z',
      notAfter: '2027-02-28T00:00:00.000Z',
      dnsNames: [`site-${i}.example.com`],
      ipAddresses: [],
      serialNumber: randomBytes(16).toString('hex').toUpperCase(),
      issuer: 'C=US\nO=Example\nCN=Example CA',
      key: 'RSA 2048',
      chainLength: 2,
      selfSigned: false,
      certificateId: `aYhba4dGQEHhs3uEe6CuLN4ByNQ.${randomBytes(16).toString('base64url')}`,
      privateKey: 'RSA 2048',
      keyCertificateIndex: 0,
    },
  }));
  const data = encodeStatus(many, {
    startedAt: 'a',
    finishedAt: 'b',
    result: 'Succeeded',
    entries: many.length,
    issued: 0,
    renewed: 0,
    valid: many.length,
    skipped: 0,
    failed: 0,
  });
  assert.ok((data[COMPRESSED_KEY] ?? '').length <= COMPRESSED_BUDGET_BYTES);
  const back = decodeStatus(data).certificates;
  assert.equal(back.length, many.length);
  assert.ok(
    back.every((c) => c.secretFacts === undefined),
    'the facts were given up',
  );
  assert.ok(
    back.every((c) => c.history?.length === 1),
    'the histories were kept',
  );
});
