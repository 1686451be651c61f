/**
 * "May this run start another order?" — the run's two budgets, as a pure decision.
 *
 * A first install over many Ingresses orders one certificate after another; at Let's Encrypt's
 * latency that is seconds each, and a few hundred would outlive the Job's
 * `activeDeadlineSeconds`, which kills the pod before the status is written. So a run stops
 * starting orders once it has worked for LEGO_RUN_BUDGET (kept below the deadline by the
 * manifests), and once it has started LEGO_MAX_ORDERS_PER_RUN orders: Let's Encrypt allows 300
 * new orders per account per 3 hours (https://letsencrypt.org/docs/rate-limits/, "New Orders
 * per Account"), and a run that spent them all would leave none for renewals and retries.
 *
 * A certificate left over is `Deferred`: not a failure — no Event, no back-off charged, its
 * failure memory as it was — and the next run, deciding afresh, orders it.
 */
import { formatDuration } from '../../shared/duration.js';
import type { DeferReason } from './reasons.js';

/** The budgets of one run (LEGO_RUN_BUDGET, LEGO_MAX_ORDERS_PER_RUN). */
export interface RunBudget {
  /** How long after the run's start a new order may still start, in milliseconds. */
  timeMs: number;
  /** How many orders the run may start. */
  maxOrders: number;
}

/** What the run has spent so far. */
export interface BudgetSpent {
  /** When the run started (before the Lease was taken). */
  startedAt: Date;
  /** Orders started so far in this run, failed ones included. */
  ordersStarted: number;
}

/** Why no further order starts in this run: a stable reason and a sentence. */
export interface BudgetExhausted {
  reason: DeferReason;
  message: string;
}

/**
 * `undefined` while another order may start at `now`, else which budget is spent (the order
 * budget is named first when both are). Pure; never throws.
 */
export function checkRunBudget(
  budget: RunBudget,
  spent: BudgetSpent,
  now: Date,
): BudgetExhausted | undefined {
  if (spent.ordersStarted >= budget.maxOrders) {
    return {
      reason: 'OrderBudgetExhausted',
      message: `The run started ${spent.ordersStarted} orders, LEGO_MAX_ORDERS_PER_RUN; this certificate is left for the next run (Let's Encrypt allows 300 new orders per account per 3 hours).`,
    };
  }
  const elapsedMs = now.getTime() - spent.startedAt.getTime();
  if (elapsedMs >= budget.timeMs) {
    return {
      reason: 'RunBudgetExhausted',
      message: `The run has worked for ${formatDuration(elapsedMs)}, past LEGO_RUN_BUDGET ${formatDuration(budget.timeMs)}; this certificate is left for the next run.`,
    };
  }
  return undefined;
}
