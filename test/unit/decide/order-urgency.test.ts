/**
 * Layer: unit. The order a run carries out its decisions in (jobs/decide/order-urgency.ts):
 * renewals by expiry, then first issuances, then the rest, each in a stable order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderByUrgency } from '../../../jobs/decide/order-urgency.js';
import { DAY, at } from './fixtures.js';

type Row = Parameters<typeof orderByUrgency>[0][number] & { name: string };

const issue = { kind: 'Issue', renewal: true, reason: 'RenewalDue', message: '' } as const;
const renewal = (name: string, notAfterInDays: number): Row =>
  ({ name, action: issue, facts: { notAfter: at(notAfterInDays * DAY) } }) as unknown as Row;
const first = (name: string): Row =>
  ({
    name,
    action: { ...issue, renewal: false, reason: 'NoCertificate' },
    facts: undefined,
  }) as unknown as Row;
const upToDate = (name: string): Row =>
  ({ name, action: { kind: 'UpToDate' }, facts: { notAfter: at(60 * DAY) } }) as unknown as Row;

test('renewals first, the one that expires first leading; then first issuances; then the rest', () => {
  const plan = [
    upToDate('valid-a'),
    first('new-a'),
    renewal('due-in-20d', 20),
    first('new-b'),
    renewal('expired', -2),
    upToDate('valid-b'),
    renewal('due-in-5d', 5),
  ];
  assert.deepEqual(
    orderByUrgency(plan).map((row) => row.name),
    ['expired', 'due-in-5d', 'due-in-20d', 'new-a', 'new-b', 'valid-a', 'valid-b'],
  );
  assert.equal(plan[0]!.name, 'valid-a', 'the plan itself is not reordered');
});

test('equal expiries keep the plan order', () => {
  const plan = [renewal('b', 3), renewal('a', 3), renewal('c', 3)];
  assert.deepEqual(
    orderByUrgency(plan).map((row) => row.name),
    ['b', 'a', 'c'],
  );
});
