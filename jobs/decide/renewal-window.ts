/**
 * ACME Renewal Information (ARI, RFC 9773) as pure decisions: reading a `renewalInfo` answer,
 * when to ask again, the renewal time drawn inside the suggested window, and whether a stored
 * window may steer the renewal of a certificate. No I/O, no clock (`now` is passed in), no
 * randomness of its own (the random source is passed in). The stored format is
 * shared/renewal-info.ts; jobs/run/renewal-info-gather.ts does the asking.
 */
import type { RenewalInfoRecord } from '../../shared/renewal-info.js';

const HOUR_MS = 3600_000;
/** Retry-After is obeyed within these bounds (RFC 9773 §4.3: clients may clamp it). */
export const MIN_ASK_INTERVAL_MS = HOUR_MS;
export const MAX_ASK_INTERVAL_MS = 7 * 24 * HOUR_MS;
/**
 * Without a Retry-After the next ask is 6 hours later: what Let's Encrypt sends, and four asks a
 * day at most (RFC 9773 §4.3.3 leaves the default to the client).
 */
export const DEFAULT_ASK_INTERVAL_MS = 6 * HOUR_MS;
/** After a failed ask, the next one waits an hour: the lower bound of the clamp. */
export const FAILED_ASK_INTERVAL_MS = MIN_ASK_INTERVAL_MS;

/** A suggested window as the server sent it (RFC 9773 §4.2). */
export interface SuggestedWindow {
  start: Date;
  end: Date;
  explanationUrl?: string;
}

/** What a stored record contributes to the decision: a usable window and the time drawn in it. */
export interface RenewalWindow {
  start: Date;
  end: Date;
  renewAt: Date;
  explanationUrl?: string;
}

/**
 * Reads a `renewalInfo` response body (RFC 9773 §4.2: `suggestedWindow` with RFC 3339 `start`
 * and `end`, optional `explanationURL`). Returns the window, or a sentence saying what is wrong:
 * not an object, a missing or unreadable time, or an end that does not follow the start (such a
 * window is invalid, §4.2). Never throws.
 */
export function parseRenewalInfo(body: unknown): SuggestedWindow | { problem: string } {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { problem: 'the renewalInfo answer is not JSON' };
    }
  }
  if (typeof value !== 'object' || value === null)
    return { problem: 'the renewalInfo answer is not a JSON object' };
  const window = (value as { suggestedWindow?: unknown }).suggestedWindow;
  if (typeof window !== 'object' || window === null)
    return { problem: 'the renewalInfo answer has no suggestedWindow' };
  const { start, end } = window as { start?: unknown; end?: unknown };
  const startAt = typeof start === 'string' ? new Date(start) : undefined;
  const endAt = typeof end === 'string' ? new Date(end) : undefined;
  if (startAt === undefined || Number.isNaN(startAt.getTime()))
    return { problem: `the suggested window's start ${JSON.stringify(start)} is not a time` };
  if (endAt === undefined || Number.isNaN(endAt.getTime()))
    return { problem: `the suggested window's end ${JSON.stringify(end)} is not a time` };
  if (endAt.getTime() <= startAt.getTime())
    return {
      problem: `the suggested window ends (${endAt.toISOString()}) no later than it starts (${startAt.toISOString()})`,
    };
  const explanation = (value as { explanationURL?: unknown }).explanationURL;
  return {
    start: startAt,
    end: endAt,
    ...(typeof explanation === 'string' && explanation !== ''
      ? { explanationUrl: explanation }
      : {}),
  };
}

/**
 * When to ask again: the server's Retry-After, at least an hour and at most 7 days from `now`
 * (RFC 9773 §4.3 lets clients bound it: a burst of asks must not follow a tiny value, and a
 * revocation must not go unnoticed for months after a huge one); 6 hours without one.
 */
export function nextAskAt(retryAfter: Date | undefined, now: Date): Date {
  const wanted =
    retryAfter === undefined ? DEFAULT_ASK_INTERVAL_MS : retryAfter.getTime() - now.getTime();
  const clamped = Math.min(MAX_ASK_INTERVAL_MS, Math.max(MIN_ASK_INTERVAL_MS, wanted));
  return new Date(now.getTime() + clamped);
}

/**
 * A renewal time drawn uniformly inside the window (RFC 9773 §4.2), with `random` returning a
 * number in [0, 1) like Math.random. The result is at or after `start` and before `end`.
 */
export function chooseRenewalTime(window: { start: Date; end: Date }, random: () => number): Date {
  const span = window.end.getTime() - window.start.getTime();
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return new Date(window.start.getTime() + Math.floor(r * span));
}

/**
 * The record after a successful ask. The renewal time is drawn once per window: when the stored
 * record is about the same certificate and the window is unchanged, its time is kept, so runs do
 * not re-draw until one of them lands early (§4.2). A changed window draws anew.
 */
export function recordAfterAnswer(
  previous: RenewalInfoRecord | undefined,
  certificateId: string,
  window: SuggestedWindow,
  retryAfter: Date | undefined,
  now: Date,
  random: () => number,
): RenewalInfoRecord {
  const start = window.start.toISOString();
  const end = window.end.toISOString();
  const kept =
    previous?.certificateId === certificateId &&
    previous.windowStart === start &&
    previous.windowEnd === end
      ? previous.renewAt
      : undefined;
  const renewAt = kept ?? chooseRenewalTime(window, random).toISOString();
  return {
    certificateId,
    nextAskAt: nextAskAt(retryAfter, now).toISOString(),
    windowStart: start,
    windowEnd: end,
    renewAt,
    ...(window.explanationUrl ? { explanationUrl: window.explanationUrl } : {}),
  };
}

/**
 * The record after an ask that gave no usable window (the request failed, or the answer was
 * unreadable): no window, so the lifetime rule applies, and the next ask an hour later.
 */
export function recordAfterFailure(
  certificateId: string,
  error: string,
  now: Date,
): RenewalInfoRecord {
  return {
    certificateId,
    nextAskAt: new Date(now.getTime() + FAILED_ASK_INTERVAL_MS).toISOString(),
    error,
  };
}

/**
 * Whether the renewalInfo endpoint is to be asked about `certificateId` at `now`: when nothing
 * is stored about this certificate (none, or a record about the certificate it replaced), or the
 * stored next-ask time has come.
 */
export function renewalInfoAskDue(
  record: RenewalInfoRecord | undefined,
  certificateId: string,
  now: Date,
): boolean {
  if (record === undefined || record.certificateId !== certificateId) return true;
  return Date.parse(record.nextAskAt) <= now.getTime();
}

/**
 * The window that steers the renewal of the certificate `certificateId` valid until `notAfter`,
 * or `undefined` when the lifetime rule applies instead: no record, a record about another
 * certificate, no window (the last ask failed), or a window that is unusable — one that does not
 * end before the certificate expires (renewing at a time drawn in it could come too late).
 */
export function usableRenewalWindow(
  record: RenewalInfoRecord | undefined,
  certificateId: string | undefined,
  notAfter: Date,
): RenewalWindow | undefined {
  if (record === undefined || certificateId === undefined) return undefined;
  if (record.certificateId !== certificateId) return undefined;
  if (!record.windowStart || !record.windowEnd || !record.renewAt) return undefined;
  const start = new Date(record.windowStart);
  const end = new Date(record.windowEnd);
  const renewAt = new Date(record.renewAt);
  if (end.getTime() <= start.getTime() || end.getTime() > notAfter.getTime()) return undefined;
  if (renewAt.getTime() < start.getTime() || renewAt.getTime() >= end.getTime()) return undefined;
  return {
    start,
    end,
    renewAt,
    ...(record.explanationUrl ? { explanationUrl: record.explanationUrl } : {}),
  };
}
