import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeKept,
  encodeKept,
  keptKey,
  keptMatches,
  keptUse,
  type KeptCertificate,
} from '../../../shared/kept-certificates.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const KEPT: KeptCertificate = {
  namespace: 'shop',
  secretName: 'web-tls',
  hosts: ['a.example', 'b.example'],
  keyType: 'rsa',
  rsaKeySize: 2048,
  directoryUrl: 'https://acme.example/dir',
  notAfter: '2026-08-30T00:00:00.000Z',
  keptAt: '2026-06-01T00:00:00.000Z',
  certificatePem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
  privateKeyPem: '-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n',
};
const WANTED = {
  namespace: 'shop',
  secretName: 'web-tls',
  hosts: ['b.example', 'a.example'],
  keyType: 'rsa',
  rsaKeySize: 2048,
  directoryUrl: 'https://acme.example/dir',
};

describe('kept certificates: the format', () => {
  test('encode and decode give back the entry, under its key', () => {
    const { key, value } = encodeKept(KEPT);
    assert.equal(key, 'shop.web-tls.json');
    assert.equal(key, keptKey('shop', 'web-tls'));
    assert.deepEqual(decodeKept({ [key]: value }), { entries: [KEPT], malformed: [] });
  });

  test('decode never throws: garbage, wrong shapes and misplaced entries are reported', () => {
    const good = encodeKept(KEPT);
    const decoded = decodeKept({
      [good.key]: good.value,
      'a.b.json': Buffer.from('{not json').toString('base64'),
      'c.d.json': Buffer.from(JSON.stringify({ namespace: 'c' })).toString('base64'),
      'other.place.json': good.value,
    });
    assert.deepEqual(decoded.entries, [KEPT]);
    assert.deepEqual(decoded.malformed.sort(), ['a.b.json', 'c.d.json', 'other.place.json']);
    assert.deepEqual(decodeKept(undefined), { entries: [], malformed: [] });
  });
});

describe('kept certificates: when one may be installed', () => {
  const rows: [string, Partial<typeof WANTED>, Date, boolean][] = [
    ['same Secret, hosts in any order, key type, directory, still valid', {}, NOW, true],
    ['other hosts', { hosts: ['a.example'] }, NOW, false],
    ['other key type', { keyType: 'ecdsa-p256' }, NOW, false],
    ['other RSA size', { rsaKeySize: 4096 }, NOW, false],
    ['other directory (staging → production)', { directoryUrl: 'https://other/dir' }, NOW, false],
    ['other Secret', { secretName: 'api-tls' }, NOW, false],
    ['expired', {}, new Date('2026-09-01T00:00:00Z'), false],
  ];
  for (const [name, change, now, expected] of rows) {
    test(name, () => {
      assert.equal(keptMatches(KEPT, { ...WANTED, ...change }, now), expected);
    });
  }
});

describe('kept certificates: what an entry is good for', () => {
  const { certificatePem: _chain, notAfter: _notAfter, ...rest } = KEPT;
  const ORDER_ONLY: KeptCertificate = { ...rest, orderUrl: 'https://acme.example/order/7' };
  const rows: [string, KeptCertificate, Partial<typeof WANTED>, Date, string][] = [
    ['a chain, still valid: install', KEPT, {}, NOW, 'install'],
    ['a chain, expired: drop', KEPT, {}, new Date('2026-09-01T00:00:00Z'), 'drop'],
    ['only the order: download (no expiry known yet)', ORDER_ONLY, {}, NOW, 'download'],
    ['only the order, hosts changed: drop', ORDER_ONLY, { hosts: ['a.example'] }, NOW, 'drop'],
    ['only the order, key type changed: drop', ORDER_ONLY, { keyType: 'ecdsa-p384' }, NOW, 'drop'],
    [
      'only the order, directory changed: drop',
      ORDER_ONLY,
      { directoryUrl: 'https://x/' },
      NOW,
      'drop',
    ],
  ];
  for (const [name, kept, change, now, expected] of rows) {
    test(name, () => {
      assert.equal(keptUse(kept, { ...WANTED, ...change }, now).use, expected);
    });
  }

  test('an entry with only its order is a valid format; one with neither chain nor order is not', () => {
    const good = encodeKept(ORDER_ONLY);
    assert.deepEqual(decodeKept({ [good.key]: good.value }).entries, [ORDER_ONLY]);
    const { orderUrl: _order, ...neither } = ORDER_ONLY;
    const bad = encodeKept(neither);
    assert.deepEqual(decodeKept({ [bad.key]: bad.value }).malformed, [bad.key]);
  });
});
