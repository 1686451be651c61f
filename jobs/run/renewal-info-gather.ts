/**
 * Gather, ARI part: asks the directory's renewalInfo endpoint (RFC 9773) about each stored
 * certificate whose next-ask time has come, and attaches the resulting record to its input; the
 * decision (jobs/decide/renewal-window.ts, the `RenewalWindowReached` check) reads only the
 * record. A certificate asked about less than its Retry-After ago costs no request, so a run
 * with nothing due sends none.
 *
 * An ARI failure never fails a certificate: it is logged at debug, recorded (no window: the
 * lifetime rule applies, the next ask an hour later), and the run goes on. After a failure of
 * the server as a whole (no answer, 5xx) nothing more is asked in this run.
 */
import { AcmeUnavailableError, describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { RenewalInfoRecord } from '../../shared/renewal-info.js';
import type { CertificateInput } from '../decide/action.js';
import {
  parseRenewalInfo,
  recordAfterAnswer,
  recordAfterFailure,
  renewalInfoAskDue,
} from '../decide/renewal-window.js';
import type { RenewalInfoSource } from '../acme/renewal-info.js';

/**
 * The inputs, each with its renewal information asked for where due. Never throws.
 * `source` is loaded only when some certificate is due (it loads the ACME client).
 */
export async function gatherRenewalInfo(
  inputs: readonly CertificateInput[],
  source: () => Promise<RenewalInfoSource>,
  now: Date,
  random: () => number,
  logger: Logger,
): Promise<CertificateInput[]> {
  let unavailable: string | undefined;
  const result: CertificateInput[] = [];
  for (const input of inputs) {
    const id = input.secret?.facts?.certificateId;
    if (id === undefined || !renewalInfoAskDue(input.renewalInfo, id, now)) {
      result.push(input);
      continue;
    }
    const record = unavailable
      ? recordAfterFailure(id, unavailable, now)
      : await askOne(input.renewalInfo, id, source, now, random);
    if (record === undefined) {
      // The directory offers no ARI: nothing to record; the lifetime rule applies.
      const { renewalInfo: _dropped, ...rest } = input;
      result.push(rest);
      continue;
    }
    if (record.error !== undefined) {
      logger.debug('no renewal information; the lifetime rule applies', {
        namespace: input.certificate.namespace,
        secret: input.certificate.secretName,
        certificateId: id,
        error: record.error,
      });
      if (!unavailable && record.error.startsWith(UNAVAILABLE)) unavailable = record.error;
    } else {
      logger.debug('renewal information', {
        namespace: input.certificate.namespace,
        secret: input.certificate.secretName,
        certificateId: id,
        windowStart: record.windowStart,
        windowEnd: record.windowEnd,
        renewAt: record.renewAt,
        nextAskAt: record.nextAskAt,
      });
    }
    result.push({ ...input, renewalInfo: record });
  }
  return result;
}

const UNAVAILABLE = 'the ACME server is unavailable: ';

/**
 * Asks about one certificate: its new record, or `undefined` when the directory offers no ARI.
 * Never throws.
 */
async function askOne(
  previous: RenewalInfoRecord | undefined,
  certificateId: string,
  source: () => Promise<RenewalInfoSource>,
  now: Date,
  random: () => number,
): Promise<RenewalInfoRecord | undefined> {
  try {
    const answer = await (await source()).ask(certificateId);
    if (answer === undefined) return undefined;
    const window = parseRenewalInfo(answer.body);
    if ('problem' in window) return recordAfterFailure(certificateId, window.problem, now);
    return recordAfterAnswer(previous, certificateId, window, answer.retryAfter, now, random);
  } catch (error) {
    const prefix = error instanceof AcmeUnavailableError ? UNAVAILABLE : '';
    return recordAfterFailure(certificateId, `${prefix}${describeError(error)}`, now);
  }
}
