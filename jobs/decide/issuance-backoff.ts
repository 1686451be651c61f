/**
 * Back-off after failed issuance attempts, remembered in the status ConfigMap between runs.
 *
 * Why: a TLS entry whose hosts do not point at this cluster fails every run. Let's Encrypt allows
 * 5 failed validations per account, per hostname, per hour (Failed Validation limit) and 5
 * certificates for the same set of names per week (Duplicate Certificate limit) — Let's Encrypt
 * "Rate Limits". Retrying every run would keep the account throttled for every other certificate
 * too. The schedule is cert-manager's: 1h, 2h, 4h, … capped at 32h.
 */
import type { CertificateStatus } from '../../shared/status-entries.js';

const HOUR_MS = 3_600_000;

/** The delay after the first failure. */
export const BACKOFF_INITIAL_MS = HOUR_MS;

/** The longest delay between attempts. */
export const BACKOFF_MAX_MS = 32 * HOUR_MS;

/** The outcome of {@link checkBackoff}. */
export type BackoffDecision =
  { blocked: false } | { blocked: true; until: Date; reason: 'BackingOff'; message: string };

/**
 * The fields of a {@link CertificateStatus} after another failed attempt; spread them over the
 * rest of the entry.
 */
export type FailureFields = Required<
  Pick<
    CertificateStatus,
    'failures' | 'lastFailureAt' | 'retryAfter' | 'failedHosts' | 'reason' | 'message'
  >
> & { result: 'Failed' };

/** A failed issuance attempt, as the act step reports it. */
export interface IssuanceFailure {
  /** Stable PascalCase reason of the failure (e.g. the ACME problem type's name). */
  reason: string;
  /** What went wrong, for the user. */
  message: string;
  /** The server's Retry-After (RFC 8555 §6.6, e.g. with a `rateLimited` problem), if any. */
  retryAfter?: Date | undefined;
}

/**
 * The delay after `failures` consecutive failures: 1h · 2^(failures − 1), at most 32h. Zero when
 * `failures` is 0 or less (or not a number).
 */
export function backoffDelayMs(failures: number): number {
  if (!(failures >= 1)) return 0;
  const exponent = Math.min(
    Math.floor(failures) - 1,
    Math.log2(BACKOFF_MAX_MS / BACKOFF_INITIAL_MS),
  );
  return Math.min(BACKOFF_INITIAL_MS * 2 ** exponent, BACKOFF_MAX_MS);
}

/**
 * Whether an earlier failure still holds back a new attempt for `hosts` at `now`.
 *
 * Not blocked when there is no status, `failures` is 0, or the failures were counted for another
 * host set (`failedHosts`, or `hosts` of a status written without it): a changed set is a new
 * request and starts afresh. Otherwise blocked until the later of `lastFailureAt` plus
 * {@link backoffDelayMs} and the stored `retryAfter` (the server's word is honoured, RFC 8555
 * §6.6); not blocked once that instant is reached. Unreadable timestamps are ignored. Never
 * throws.
 */
export function checkBackoff(
  status: CertificateStatus | undefined,
  hosts: readonly string[],
  now: Date,
): BackoffDecision {
  if (status === undefined || !(status.failures > 0)) return { blocked: false };
  if (!sameHosts(status.failedHosts ?? status.hosts, hosts)) return { blocked: false };
  const lastFailureAt = parseTime(status.lastFailureAt);
  const backoffEnd =
    lastFailureAt === undefined ? undefined : lastFailureAt + backoffDelayMs(status.failures);
  const retryAfter = parseTime(status.retryAfter);
  const until = Math.max(backoffEnd ?? -Infinity, retryAfter ?? -Infinity);
  if (!(until > now.getTime())) return { blocked: false };
  const serverSaid = retryAfter !== undefined && retryAfter === until && retryAfter !== backoffEnd;
  return {
    blocked: true,
    until: new Date(until),
    reason: 'BackingOff',
    message: `${status.failures} consecutive failed attempt${status.failures === 1 ? '' : 's'}; the next attempt is not before ${new Date(until).toISOString()}${serverSaid ? ' (as the ACME server asked)' : ''}.`,
  };
}

/**
 * The failure fields after another failed attempt for `hosts` at `now`: `failures` is one more
 * than before when the previous failures were for the same host set, else 1; `lastFailureAt` is
 * `now`; `retryAfter` is the later of the back-off end and the server's Retry-After; `failedHosts`
 * is `hosts`, sorted; `result` is `Failed` with the failure's reason and message. Never throws.
 */
export function nextFailureStatus(
  previous: CertificateStatus | undefined,
  hosts: readonly string[],
  failure: IssuanceFailure,
  now: Date,
): FailureFields {
  const counted =
    previous !== undefined &&
    previous.failures > 0 &&
    sameHosts(previous.failedHosts ?? previous.hosts, hosts)
      ? previous.failures
      : 0;
  const failures = counted + 1;
  const backoffEnd = now.getTime() + backoffDelayMs(failures);
  const serverRetryAfter = failure.retryAfter?.getTime();
  const retryAfter =
    serverRetryAfter !== undefined && serverRetryAfter > backoffEnd ? serverRetryAfter : backoffEnd;
  return {
    result: 'Failed',
    reason: failure.reason,
    message: failure.message,
    failures,
    lastFailureAt: now.toISOString(),
    retryAfter: new Date(retryAfter).toISOString(),
    failedHosts: [...hosts].sort(),
  };
}

function sameHosts(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((host, i) => host === right[i]);
}

function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}
