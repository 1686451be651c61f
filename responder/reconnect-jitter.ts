/**
 * The delay before reconnecting to the API server (not the job's issuance back-off, which is
 * jobs/decide/backoff.ts): capped, exponential, with jitter — the n-th
 * consecutive failure waits between half and all of min(max, initial × 2^(n-1)), so replicas
 * that lost the API server together do not come back in lock-step.
 */

export interface ReconnectPolicy {
  initialMs: number;
  maxMs: number;
}

/** The responder's policy: 0.5 s, 1 s, 2 s, 4 s, then at most 8 s (each halved by jitter at worst). */
export const DEFAULT_RECONNECT: ReconnectPolicy = { initialMs: 500, maxMs: 8_000 };

/** The delay before attempt `failures + 1`; `random` returns a number in [0, 1). */
export function reconnectDelay(
  failures: number,
  policy: ReconnectPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
