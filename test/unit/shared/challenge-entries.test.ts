/** Layer: unit. The challenge ConfigMap format and path (shared/challenge-entries.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeChallenges,
  encodeChallenge,
  isValidToken,
  type ChallengeEntry,
} from '../../../shared/challenge-entries.js';

const THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const TOKEN_A = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const TOKEN_B = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

function entry(token: string, domain: string): ChallengeEntry {
  return { token, domain, keyAuthorization: `${token}.${THUMBPRINT}` };
}

/** A ConfigMap `data` holding `entries`, as the job writes it. */
function data(...entries: ChallengeEntry[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => [e.token, encodeChallenge(e)]));
}

describe('challenge entries', () => {
  test('encode then decode gives the entries back', () => {
    const entries = [entry(TOKEN_A, 'a.example'), entry(TOKEN_B, 'b.example')];
    assert.deepEqual(decodeChallenges(data(...entries)), { entries, malformed: [] });
  });

  test('the value holds only the domain and the key authorization (the token is the key)', () => {
    assert.deepEqual(JSON.parse(encodeChallenge(entry(TOKEN_A, 'a.example'))), {
      domain: 'a.example',
      keyAuthorization: `${TOKEN_A}.${THUMBPRINT}`,
    });
  });

  test('domains are lower-cased on reading', () => {
    const { entries } = decodeChallenges(data(entry(TOKEN_A, 'WWW.Example.COM')));
    assert.equal(entries[0]?.domain, 'www.example.com');
  });

  test('absent or empty data gives no entries and no problems', () => {
    assert.deepEqual(decodeChallenges(undefined), { entries: [], malformed: [] });
    assert.deepEqual(decodeChallenges({}), { entries: [], malformed: [] });
  });

  test('malformed entries are reported and skipped; the others survive', () => {
    const good = entry(TOKEN_A, 'a.example');
    const result = decodeChallenges({
      ...data(good),
      'bad.token': encodeChallenge(entry('bad.token', 'b.example')),
      'bad/token': encodeChallenge(entry('bad/token', 'b.example')),
      ['t'.repeat(257)]: encodeChallenge(entry('t'.repeat(257), 'b.example')),
      notjson: '{domain: b.example',
      nullvalue: 'null',
      nodomain: JSON.stringify({ keyAuthorization: `nodomain.${THUMBPRINT}` }),
      emptydomain: JSON.stringify({ domain: '', keyAuthorization: `emptydomain.${THUMBPRINT}` }),
      numberdomain: JSON.stringify({ domain: 7, keyAuthorization: `numberdomain.${THUMBPRINT}` }),
      nokeyauth: JSON.stringify({ domain: 'b.example' }),
      otherToken: JSON.stringify({
        domain: 'b.example',
        keyAuthorization: `${TOKEN_B}.${THUMBPRINT}`,
      }),
      nodot: JSON.stringify({ domain: 'b.example', keyAuthorization: `nodot${THUMBPRINT}` }),
      prefix: JSON.stringify({ domain: 'b.example', keyAuthorization: `prefixed.${THUMBPRINT}` }),
    });
    assert.deepEqual(result.entries, [good]);
    const problems = Object.fromEntries(result.malformed.map((m) => [m.key, m.problem]));
    const BAD_KEY = 'key is not a token in the base64url alphabet';
    const NOT_JSON = 'value is not JSON';
    const NO_DOMAIN = 'value has no "domain" string';
    const NO_KEYAUTH = 'value has no "keyAuthorization" of the form <token>.<thumbprint>';
    assert.deepEqual(problems, {
      'bad.token': BAD_KEY,
      'bad/token': BAD_KEY,
      ['t'.repeat(257)]: BAD_KEY,
      notjson: NOT_JSON,
      nullvalue: NO_DOMAIN,
      nodomain: NO_DOMAIN,
      emptydomain: NO_DOMAIN,
      numberdomain: NO_DOMAIN,
      nokeyauth: NO_KEYAUTH,
      otherToken: NO_KEYAUTH,
      nodot: NO_KEYAUTH,
      prefix: NO_KEYAUTH,
    });
    assert.equal(result.malformed.length, 12);
  });

  test('isValidToken: the base64url alphabet, 1 to 256 characters (RFC 8555 §8.3)', () => {
    for (const token of [TOKEN_A, 'a', '-_', 'A'.repeat(256)])
      assert.ok(isValidToken(token), token);
    for (const token of ['', 'a.b', 'a/b', 'a+b', 'a=', 'a b', '../x', 'A'.repeat(257), 'é']) {
      assert.ok(!isValidToken(token), token);
    }
  });
});
