/**
 * Layer: unit. When the job switches V8 to `--optimize-for-size` itself (jobs/lean-heap.ts):
 * only when Node's command line did not choose either way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leanHeapWanted } from '../../jobs/lean-heap.js';

test('switched on when Node was given no choice about it', () => {
  assert.equal(leanHeapWanted([]), true);
  assert.equal(leanHeapWanted(['--max-semi-space-size=1', '--enable-source-maps']), true);
  // Similar names are other flags.
  assert.equal(leanHeapWanted(['--optimize-for-sizes']), true);
});

test("left alone when the command line chose, in any of V8's spellings", () => {
  for (const choice of [
    '--optimize-for-size',
    '--optimize_for_size',
    '--no-optimize-for-size',
    '--nooptimize-for-size',
    '--no-optimize_for_size',
    '--optimize-for-size=false',
  ]) {
    assert.equal(leanHeapWanted(['--enable-source-maps', choice]), false, choice);
  }
});
