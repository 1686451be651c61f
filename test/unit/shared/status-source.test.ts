/** Layer: unit. The `source` of a status entry (shared/status-source.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusSource } from '../../../shared/status-source.js';

const ROWS: [string[], string][] = [
  [['shop/web'], 'Ingress'],
  [['Gateway:shop/edge'], 'Gateway'],
  [['Gateway:shop/edge', 'shop/web'], 'Gateway'],
  [['shop/web', 'Gateway:shop/edge'], 'Ingress'],
  [[], 'Ingress'],
];

for (const [requesters, source] of ROWS) {
  test(`${JSON.stringify(requesters)} → ${source}`, () => {
    assert.equal(statusSource(requesters), source);
  });
}
