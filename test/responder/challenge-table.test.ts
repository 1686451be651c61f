/**
 * Layer: unit.
 * The in-memory challenge table: whole-table replacement, malformed entries skipped with one log
 * line each (while they stay), key authorizations never logged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeChallenge } from '../../shared/challenge-entries.js';
import { createLogger } from '../../shared/logger.js';
import { ChallengeTable } from '../../responder/challenge-table.js';

const T1 = 'token1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const T2 = 'token2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const THUMB = 'thumbprint_cccccccccccccccccccccccccccccccc';

function table() {
  const lines: string[] = [];
  const t = new ChallengeTable(
    createLogger({ level: 'debug', type: 'json', write: (l) => lines.push(l) }),
  );
  return { t, lines };
}

describe('ChallengeTable', () => {
  test('replaces the whole table; absent data means no challenge', () => {
    const { t } = table();
    let change = t.replace({
      [T1]: encodeChallenge({
        token: T1,
        domain: 'A.example.com',
        keyAuthorization: `${T1}.${THUMB}`,
      }),
    });
    assert.deepEqual(change.added, [T1]);
    assert.equal(t.find(T1)?.domain, 'a.example.com', 'domains are kept lower-case');
    change = t.replace({
      [T2]: encodeChallenge({
        token: T2,
        domain: 'b.example.com',
        keyAuthorization: `${T2}.${THUMB}`,
      }),
    });
    assert.deepEqual(change.added, [T2]);
    assert.deepEqual(change.removed, [T1]);
    assert.equal(t.find(T1), undefined);
    assert.equal(t.size, 1);
    change = t.replace(undefined);
    assert.deepEqual(change.removed, [T2]);
    assert.equal(t.size, 0);
  });

  test('a malformed entry is skipped with one warning while it stays; the others are served', () => {
    const { t, lines } = table();
    const data = {
      [T1]: encodeChallenge({
        token: T1,
        domain: 'a.example.com',
        keyAuthorization: `${T1}.${THUMB}`,
      }),
      'not.a.token': encodeChallenge({
        token: 'x',
        domain: 'x.example.com',
        keyAuthorization: 'x.y',
      }),
      [T2]: '{"domain": "b.example.com", "keyAuthorization": "wrongtoken.abc"}',
      token3: 'not json',
    };
    let change = t.replace(data);
    assert.equal(t.size, 1);
    assert.equal(t.find(T1)?.keyAuthorization, `${T1}.${THUMB}`);
    assert.equal(change.malformed.length, 3);
    assert.equal(t.malformedCount, 3);
    const warnings = () => lines.filter((l) => l.includes('"level":"warn"'));
    assert.equal(warnings().length, 3);
    assert.match(warnings().join('\n'), /"entry":"not\.a\.token".*base64url/);
    change = t.replace(data);
    assert.equal(warnings().length, 3, 'not logged again while unchanged');
    assert.equal(change.malformed.length, 3);
    const { token3: _, ...fixed } = data;
    t.replace(fixed);
    t.replace(data);
    assert.equal(warnings().length, 4, 'logged again when it comes back');
  });

  test('logs counts at info and token names at debug, never a key authorization', () => {
    const { t, lines } = table();
    t.replace({
      [T1]: encodeChallenge({
        token: T1,
        domain: 'a.example.com',
        keyAuthorization: `${T1}.${THUMB}`,
      }),
    });
    const info = lines.filter((l) => l.includes('"level":"info"'));
    assert.equal(info.length, 1);
    assert.match(info[0]!, /"added":1,"removed":0,"total":1/);
    assert.ok(!info[0]!.includes(T1), 'no token at info');
    assert.ok(lines.some((l) => l.includes('"level":"debug"') && l.includes(T1)));
    for (const line of lines) assert.ok(!line.includes(THUMB), line);
  });
});
