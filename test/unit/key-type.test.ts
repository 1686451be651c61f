/**
 * Layer: unit. The key-type vocabulary (jobs/key-type.ts): every LEGO_KEY_TYPE generates the key
 * it names — none silently becomes another — and describes itself as the decision compares it.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { test } from 'node:test';
import {
  describeKey,
  formatKey,
  generatePrivateKey,
  parseKeyDescription,
  KEY_TYPES,
  keyPolicyDescription,
} from '../../jobs/key-type.js';

const EXPECTED: Record<(typeof KEY_TYPES)[number], string> = {
  rsa: 'RSA 2048',
  'ecdsa-p256': 'ECDSA P-256',
  'ecdsa-p384': 'ECDSA P-384',
};

for (const keyType of KEY_TYPES) {
  test(`${keyType}: the generated key is ${EXPECTED[keyType]}, as the policy describes it`, async () => {
    const policy = { keyType, rsaKeySize: 2048 };
    const pem = await generatePrivateKey(policy);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
    const generated = formatKey(describeKey(createPrivateKey(pem)));
    assert.equal(generated, EXPECTED[keyType]);
    assert.equal(formatKey(keyPolicyDescription(policy)), generated);
  });
}

test('parseKeyDescription reads back what formatKey prints', () => {
  for (const key of [
    { kind: 'rsa', bits: 2048 },
    { kind: 'rsa', bits: 4096 },
    { kind: 'ec', curve: 'P-256' },
    { kind: 'ec', curve: 'P-521' },
    { kind: 'other', type: 'ed25519' },
  ] as const)
    assert.deepEqual(parseKeyDescription(formatKey(key)), key);
});
