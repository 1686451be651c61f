/**
 * The stored form of a certificate's ACME Renewal Information (ARI, RFC 9773): what the job last
 * learnt from the directory's `renewalInfo` endpoint about the certificate in a Secret, kept in
 * that certificate's status entry (shared/status-entries.ts, field `renewalInfo`) so that the
 * next run neither asks again before `nextAskAt` nor draws a new renewal time inside a window it
 * has already drawn one for (RFC 9773 §4.2).
 *
 * Format (JSON, every time ISO 8601):
 * `{ certificateId, nextAskAt, windowStart?, windowEnd?, renewAt?, explanationUrl?, error? }`.
 * The window fields and `renewAt` are present together or not at all; without them the last ask
 * failed (`error` says why) and the lifetime rule applies until the next ask.
 */

/** What the job knows about one certificate's renewal window. */
export interface RenewalInfoRecord {
  /** The certificate the answer is about: its ARI identifier (RFC 9773 §4.1). */
  certificateId: string;
  /** Not asked again before this instant: the answer's Retry-After, clamped (1 h … 7 days). */
  nextAskAt: string;
  /** Start of the suggested window. */
  windowStart?: string;
  /** End of the suggested window (exclusive). */
  windowEnd?: string;
  /** The renewal time drawn once, uniformly, inside the window. */
  renewAt?: string;
  /** The server's explanation of the window, when it gave one (e.g. a revocation notice). */
  explanationUrl?: string;
  /** Why the last ask gave no usable window. */
  error?: string;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Reads a stored record. Never throws: returns `undefined` for anything that is not a record
 * (missing fields, a time that is not ISO 8601, a window without its chosen time).
 */
export function decodeRenewalInfo(value: unknown): RenewalInfoRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const time = (x: unknown) => typeof x === 'string' && ISO_TIME.test(x);
  if (typeof v.certificateId !== 'string' || v.certificateId === '' || !time(v.nextAskAt))
    return undefined;
  const record: RenewalInfoRecord = {
    certificateId: v.certificateId,
    nextAskAt: v.nextAskAt as string,
  };
  if (time(v.windowStart) && time(v.windowEnd) && time(v.renewAt)) {
    record.windowStart = v.windowStart as string;
    record.windowEnd = v.windowEnd as string;
    record.renewAt = v.renewAt as string;
  }
  if (typeof v.explanationUrl === 'string') record.explanationUrl = v.explanationUrl;
  if (typeof v.error === 'string') record.error = v.error;
  return record;
}
