/** Layer: unit. The Replay-Nonce pool of the ACME HTTP layer (jobs/acme/nonce-pool.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoncePool } from '../../jobs/acme/nonce-pool.js';

test('each kept nonce is handed out once, newest first, per server', () => {
  const pool = new NoncePool();
  pool.keep('https://a', 'n1');
  pool.keep('https://a', 'n2');
  pool.keep('https://b', 'm1');
  assert.equal(pool.take('https://a'), 'n2');
  assert.equal(pool.take('https://a'), 'n1');
  assert.equal(pool.take('https://a'), undefined);
  assert.equal(pool.take('https://b'), 'm1');
  assert.equal(pool.take('https://c'), undefined);
});

test('missing or empty header values are not kept; only the newest few are', () => {
  const pool = new NoncePool();
  pool.keep('o', undefined);
  pool.keep('o', '');
  pool.keep('o', ['x']);
  assert.equal(pool.take('o'), undefined);
  for (let i = 0; i < 10; i++) pool.keep('o', `n${i}`);
  const taken: string[] = [];
  for (let n = pool.take('o'); n !== undefined; n = pool.take('o')) taken.push(n);
  assert.deepEqual(taken, ['n9', 'n8', 'n7', 'n6']);
});
