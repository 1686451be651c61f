/**
 * The run's one block of ports (test/env/ports.ts): ports handed out once across processes, a
 * block never shared by two runs, nothing taken from the kernel's ephemeral range.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PortBlock } from '../env/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'ports-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('PortBlock', () => {
  test('claims are distinct, across processes, until the block is used up', async () => {
    const block = await PortBlock.allocate(join(dir, 'a'), 16);
    try {
      const mine = block.claim(10);
      // Another process (a test file) claims from the same block through its state.
      const script = `import { PortBlock } from ${JSON.stringify(join(import.meta.dirname, '..', 'env', 'ports.ts'))};
        console.log(JSON.stringify(PortBlock.of(${JSON.stringify(block.state)}).claim(6)));`;
      const theirs = JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          encoding: 'utf8',
        }),
      ) as number[];
      const all = [...mine, ...theirs];
      assert.equal(new Set(all).size, 16);
      for (const port of all) {
        assert.ok(port >= block.state.first && port < block.state.first + 16);
      }
      assert.throws(() => block.claim(1), /used up/);
    } finally {
      block.release();
    }
  });

  test('two runs never get the same block, and no block reaches the ephemeral range', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const one = await PortBlock.allocate(join(dir, 'b'), 64);
    const two = await PortBlock.allocate(join(dir, 'c'), 64);
    try {
      assert.notEqual(one.state.first, two.state.first);
      assert.ok(one.state.first + 64 <= (low ?? 0) && two.state.first + 64 <= (low ?? 0));
    } finally {
      one.release();
      two.release();
    }
  });

  test('a block with a port already in use is not chosen; none free is an error', async () => {
    const probe = await PortBlock.allocate(join(dir, 'd'), 32);
    const from = probe.state.first;
    probe.release();
    const range = { from, to: from + 64 }; // exactly two blocks: [from, +32) and [+32, +64)
    const busy = [createServer(), createServer()];
    const listen = (i: number, port: number) =>
      new Promise<void>((resolve) => busy[i]?.listen(port, '127.0.0.1', resolve));
    try {
      await listen(0, from + 7);
      for (let i = 0; i < 4; i++) {
        const block = await PortBlock.allocate(join(dir, `e${i}`), 32, range);
        block.release();
        assert.equal(block.state.first, from + 32);
      }
      await listen(1, from + 40);
      await assert.rejects(PortBlock.allocate(join(dir, 'f'), 32, range), /no free block/);
    } finally {
      for (const server of busy) server.close();
    }
  });
});
