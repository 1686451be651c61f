/**
 * Layer: unit.
 * The decision at the connection cap (responder/connection-table.ts), without sockets: which
 * connection is closed so that a new one is admitted, and when the new one is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionTable } from '../../responder/connection-table.js';

describe('ConnectionTable', () => {
  test('below the cap every connection is admitted, and none is evicted', () => {
    const table = new ConnectionTable<string>(3);
    assert.deepEqual(table.open('a1', 'A'), { admit: true });
    assert.deepEqual(table.open('b1', 'B'), { admit: true });
    assert.deepEqual(table.open('a2', 'A'), { admit: true });
    assert.equal(table.size, 3);
  });

  test('at the cap the longest-waiting connection of the address with the most goes', () => {
    const table = new ConnectionTable<string>(4);
    table.open('a1', 'A');
    table.open('b1', 'B');
    table.open('a2', 'A');
    table.open('a3', 'A');
    assert.deepEqual(table.open('c1', 'C'), { admit: true, evict: 'a1' });
    assert.equal(table.size, 4);
    // a1 is forgotten: closing it later changes nothing.
    table.close('a1');
    assert.equal(table.size, 4);
    assert.deepEqual(table.open('c2', 'C'), { admit: true, evict: 'a2' });
  });

  test('the arriving connection counts for its own address: a flood evicts itself', () => {
    const table = new ConnectionTable<string>(4);
    table.open('b1', 'B');
    table.open('b2', 'B');
    table.open('a1', 'A');
    table.open('a2', 'A');
    // A and B hold two each; the new one from A makes A the heaviest.
    assert.deepEqual(table.open('a3', 'A'), { admit: true, evict: 'a1' });
    assert.deepEqual(table.open('b3', 'B'), { admit: true, evict: 'b1' });
  });

  test('a busy connection (request head received) is never evicted', () => {
    const table = new ConnectionTable<string>(3);
    table.open('a1', 'A');
    table.open('a2', 'A');
    table.open('b1', 'B');
    table.busy('a1');
    table.busy('a2');
    // A holds the most but has none waiting: B's goes.
    assert.deepEqual(table.open('c1', 'C'), { admit: true, evict: 'b1' });
  });

  test('when every connection is busy the new one is refused and not recorded', () => {
    const table = new ConnectionTable<string>(2);
    table.open('a1', 'A');
    table.open('b1', 'B');
    table.busy('a1');
    table.busy('b1');
    assert.deepEqual(table.open('c1', 'C'), { admit: false, reason: 'all_busy' });
    assert.equal(table.size, 2);
    table.close('a1');
    assert.deepEqual(table.open('c2', 'C'), { admit: true });
  });

  test('a connection waiting again after its answer is the newest waiting one', () => {
    const table = new ConnectionTable<string>(3);
    table.open('a1', 'A');
    table.open('a2', 'A');
    table.open('a3', 'A');
    table.busy('a1');
    table.waiting('a1');
    assert.deepEqual(table.open('b1', 'B'), { admit: true, evict: 'a2' });
    assert.deepEqual(table.open('b2', 'B'), { admit: true, evict: 'a3' });
    assert.deepEqual(table.open('b3', 'B'), { admit: true, evict: 'b1' });
  });

  test('closing frees the place; unknown connections are ignored', () => {
    const table = new ConnectionTable<string>(1);
    table.close('nobody');
    table.busy('nobody');
    table.waiting('nobody');
    table.open('a1', 'A');
    table.close('a1');
    assert.equal(table.size, 0);
    assert.deepEqual(table.open('b1', 'B'), { admit: true });
  });
});
