import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  REDACTED_KEY_AUTHORIZATION,
  REDACTED_TOKEN,
  redactChallengeSecrets,
} from '../../jobs/acme/problem-redaction.js';

// A token (RFC 8555 §8.1: at least 128 bits, base64url) and its key authorization with a real
// RFC 7638 thumbprint shape (base64url SHA-256, 43 characters).
const token = randomBytes(32).toString('base64url');
const thumbprint = createHash('sha256').update('account key').digest('base64url');
const keyAuthorization = `${token}.${thumbprint}`;

describe('redactChallengeSecrets', () => {
  const cases: { name: string; detail: string; expected: string }[] = [
    {
      name: "Pebble's mismatch detail: both quoted values",
      detail: `The key authorization file from the server did not match this challenge "${keyAuthorization}" != "wrong"`,
      expected: `The key authorization file from the server did not match this challenge "${REDACTED_KEY_AUTHORIZATION}" != "wrong"`,
    },
    {
      name: "Boulder's (Let's Encrypt) mismatch detail, answered with another challenge's value",
      detail: `The key authorization file from the server did not match this challenge [${keyAuthorization}] != [${randomBytes(32).toString('base64url')}.${thumbprint}]`,
      expected: `The key authorization file from the server did not match this challenge [${REDACTED_KEY_AUTHORIZATION}] != [${REDACTED_KEY_AUTHORIZATION}]`,
    },
    {
      name: 'the challenge URL keeps host and status, not the token',
      detail: `104.1.2.3: Invalid response from http://shop.example.com/.well-known/acme-challenge/${token}: 404`,
      expected: `104.1.2.3: Invalid response from http://shop.example.com/.well-known/acme-challenge/${REDACTED_TOKEN}: 404`,
    },
    {
      name: 'text without secrets is unchanged, host names and URLs included',
      detail:
        'Fetching http://very-long-subdomain-name.example.com/: Connection refused (see https://letsencrypt.org/docs/rate-limits/)',
      expected:
        'Fetching http://very-long-subdomain-name.example.com/: Connection refused (see https://letsencrypt.org/docs/rate-limits/)',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const redacted = redactChallengeSecrets(c.detail);
      assert.equal(redacted, c.expected);
      assert.ok(!redacted.includes(token));
      assert.ok(!redacted.includes(thumbprint));
    });
  }

  test('known values are removed wherever they stand, even in a shape no pattern covers', () => {
    const detail = `token=${token} expected ${keyAuthorization}!`;
    const redacted = redactChallengeSecrets(detail, [token, keyAuthorization]);
    assert.equal(redacted, `token=${REDACTED_TOKEN} expected ${REDACTED_KEY_AUTHORIZATION}!`);
  });
});
