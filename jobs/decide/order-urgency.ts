/**
 * In which order a run carries out its decisions: the most urgent orders first.
 *
 * Why it matters: a run's budgets (jobs/decide/run-budget.ts) stop it starting orders part-way.
 * Whatever comes after that point waits for the next run, so a first install over hundreds of
 * Ingresses must not push back the renewal of a certificate that is about to expire, or has.
 * Renewals of a stored certificate come first, the one that expires first leading (an expired
 * one has the earliest `notAfter` of all); first issuances follow in the plan's order; then the
 * decisions that order nothing, whose place changes no outcome.
 */
import type { CertificateDecision } from './outcome.js';

/** The decisions, most urgent order first. Stable within a rank; pure; the input is not changed. */
export function orderByUrgency<T extends Pick<CertificateDecision, 'action' | 'facts'>>(
  decisions: readonly T[],
): T[] {
  const rank = (decision: T): number =>
    decision.action.kind !== 'Issue' ? 2 : decision.facts === undefined ? 1 : 0;
  // Only renewals (rank 0) are sorted by expiry; the others keep the plan's order.
  const expiry = (decision: T): number =>
    rank(decision) === 0 ? (decision.facts?.notAfter.getTime() ?? 0) : 0;
  return decisions
    .map((decision, index) => ({ decision, index }))
    .sort(
      (a, b) =>
        rank(a.decision) - rank(b.decision) ||
        expiry(a.decision) - expiry(b.decision) ||
        a.index - b.index,
    )
    .map(({ decision }) => decision);
}
