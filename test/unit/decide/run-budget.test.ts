/**
 * Layer: unit. The run's budgets (jobs/decide/run-budget.ts): a fixed `now`, a table of what the
 * run has spent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRunBudget } from '../../../jobs/decide/run-budget.js';
import { MINUTE, NOW, at } from './fixtures.js';

const budget = { timeMs: 45 * MINUTE, maxOrders: 3 };

test('checkRunBudget: which budget is spent, if any', () => {
  const rows = [
    { what: 'fresh run', startedAt: at(-MINUTE), orders: 0, want: undefined },
    { what: 'orders left, time left', startedAt: at(-44 * MINUTE), orders: 2, want: undefined },
    { what: 'time reached', startedAt: at(-45 * MINUTE), orders: 0, want: 'RunBudgetExhausted' },
    { what: 'orders reached', startedAt: at(-MINUTE), orders: 3, want: 'OrderBudgetExhausted' },
    {
      what: 'both: orders named',
      startedAt: at(-60 * MINUTE),
      orders: 5,
      want: 'OrderBudgetExhausted',
    },
  ] as const;
  for (const row of rows) {
    const result = checkRunBudget(
      budget,
      { startedAt: row.startedAt, ordersStarted: row.orders },
      NOW,
    );
    assert.equal(result?.reason, row.want, row.what);
    if (result) assert.match(result.message, /left for the next run/, row.what);
  }
});

test('checkRunBudget: the message names the setting that was reached', () => {
  assert.match(
    checkRunBudget(budget, { startedAt: at(-50 * MINUTE), ordersStarted: 0 }, NOW)!.message,
    /LEGO_RUN_BUDGET 45m0s/,
  );
  assert.match(
    checkRunBudget(budget, { startedAt: NOW, ordersStarted: 3 }, NOW)!.message,
    /started 3 orders, LEGO_MAX_ORDERS_PER_RUN/,
  );
});
