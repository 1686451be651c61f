/**
 * What each decision leads to, as data: the status entry to write, the Event to record on the
 * objects that asked for the certificate, the log line, and which count of the run summary it
 * adds to. Pure — no I/O, no clock (`now` is passed in), no logging — so a table test pins every
 * outcome; `jobs/run/reconcile.ts` only carries them out (as cert-manager keeps a controller's
 * `ProcessItem` thin).
 */
import { isStagingDirectory } from '../../shared/acme-directory.js';
import { AcmeError, describeError, KubeLegoError } from '../../shared/errors.js';
import { SECRET_ANNOTATIONS } from '../tls-secret.js';
import { renewalDueAt } from './renewal-threshold.js';
import type { LogFields } from '../../shared/logger.js';
import {
  appendAttempt,
  type CertificateResult,
  type CertificateStatus,
  type RunStatus,
} from '../../shared/status-entries.js';
import { formatKey } from '../key-type.js';
import type { PendingRequest } from '../../shared/status-entries.js';
import type { CertificateFacts } from './certificate-facts.js';
import type { DesiredCertificate, EventType, InvalidEntry, SecretView } from '../model.js';
import { requesterName } from '../model.js';
import type { Action } from './action.js';
import { nextFailureStatus, type IssuanceFailure } from './issuance-backoff.js';
import type { DeferReason, OrderReason } from './reasons.js';
import type { RenewalInfoRecord } from '../../shared/renewal-info.js';
import type { SecretFactsRecord } from '../../shared/secret-facts.js';
import type { RenewalWindow } from './renewal-window.js';

/** One desired certificate with everything known about it and the decision taken. */
export interface CertificateDecision {
  certificate: DesiredCertificate;
  /** The Secret `certificate.secretName`; `undefined` when it does not exist. */
  secret: SecretView | undefined;
  /** The stored certificate's facts; `undefined` when there is none that can be read. */
  facts: CertificateFacts | undefined;
  /** The certificate's entry of the last run's status, if any. */
  previous: CertificateStatus | undefined;
  /**
   * When the stored certificate is due for renewal: the time drawn in its ARI window when one is
   * usable, else {@link renewalDueAt}; absent without a certificate.
   */
  renewalAt?: Date;
  /**
   * Pending operator requests (retry, renew) the decision honoured; the act step removes them
   * from the status ConfigMap before ordering (jobs/decide/operator-requests.ts). Absent or
   * empty: none.
   */
  requests?: PendingRequest[];
  /** The stored certificate's ARI record (shared/renewal-info.ts), written back to the status. */
  renewalInfo?: RenewalInfoRecord;
  /** Its usable window, when the ARI check rather than the lifetime rule decides. */
  renewalWindow?: RenewalWindow;
  /**
   * What reading the Secret found, to record in the status so the next run need not parse it
   * (shared/secret-facts.ts); absent when there is nothing to record.
   */
  secretFacts?: SecretFactsRecord;
  action: Action;
}

/** A log line: its level, its message and its fields. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** An Event to record on each object that asked for the certificate. */
export interface EventNote {
  type: EventType;
  reason: string;
  message: string;
}

/** The count of the run summary an outcome adds one to. */
export type Tally = 'valid' | 'issued' | 'renewed' | 'failed' | 'deferred';

/** What one certificate's decision (and its order, if one was made) comes to. */
export interface CertificateOutcome {
  tally: Tally;
  log: LogLine;
  /** `undefined` when no Event is recorded (Valid, BackingOff, a lost Lease). */
  event: EventNote | undefined;
  status: CertificateStatus;
}

/** The counts of a run, as in {@link RunStatus}. */
export type RunCounts = Pick<RunStatus, 'issued' | 'renewed' | 'valid' | 'skipped' | 'failed'> & {
  deferred: number;
};

/**
 * The outcome of a decision that orders nothing: `Valid`, `Blocked`, `BackingOff`, and `Issue`
 * when the run may not start another order (`mayOrder` false: the Lease was lost; `LeaseLost`,
 * left for the next run). Returns `undefined` for an `Issue` that goes ahead: its outcome comes
 * from {@link issuedOutcome} or {@link failedOutcome}.
 */
export function outcomeWithoutOrder(
  decision: CertificateDecision,
  mayOrder: boolean,
  now: Date,
): CertificateOutcome | undefined {
  const { action } = decision;
  const base = baseStatus(decision, now);
  switch (action.kind) {
    case 'Valid':
      return {
        tally: 'valid',
        log: {
          level: 'info',
          message: 'certificate is valid',
          fields: {
            decision: action.kind,
            reason: action.reason,
            notAfter: decision.facts?.notAfter.toISOString(),
          },
        },
        event: undefined,
        status: {
          ...withoutFailures(base),
          result: 'Valid',
          reason: action.reason,
          message: action.message,
        },
      };
    case 'Blocked':
      return {
        tally: 'failed',
        log: {
          level: 'warn',
          message: 'certificate needed but the Secret cannot be written',
          fields: { decision: action.kind, reason: action.reason, message: action.message },
        },
        event: { type: 'Warning', reason: action.reason, message: action.message },
        status: { ...base, result: 'Invalid', reason: action.reason, message: action.message },
      };
    case 'BackingOff':
      return {
        tally: 'failed',
        log: {
          level: 'info',
          message: 'certificate needed; backing off after earlier failures',
          fields: {
            decision: action.kind,
            reason: action.reason,
            needed: action.needed.reason,
            until: action.until.toISOString(),
          },
        },
        event: undefined,
        status: {
          ...base,
          result: 'BackingOff',
          reason: action.reason,
          message: action.message,
        },
      };
    case 'Issue':
      if (mayOrder) return undefined;
      return {
        tally: 'failed',
        log: {
          level: 'warn',
          message: 'certificate needed but the run lost its Lease; left for the next run',
          fields: { reason: action.reason },
        },
        event: undefined,
        status: {
          ...base,
          result: 'Failed',
          reason: LEASE_LOST,
          message: 'The run lost its Lease before ordering this certificate; the next run will.',
        },
      };
  }
}

/** Reason of a certificate not ordered because the run lost its Lease. */
export const LEASE_LOST = 'LeaseLost' satisfies OrderReason;

/**
 * Reason of a certificate not ordered because the operator's request for it (retry, renew) could
 * not be removed from the status ConfigMap: a request is honoured only once it is removed, so
 * that a request that cannot be removed never orders a certificate on every run.
 */
export const REQUEST_NOT_CLEARED = 'RequestNotCleared' satisfies OrderReason;

/**
 * A needed certificate that was not ordered because the run failed as a whole or was stopped
 * (jobs/decide/failure-class.ts): result `Failed` with the run's reason, no Event (nothing is
 * wrong with it), and its failure memory (count, back-off) left as it was.
 */
export function notAttemptedOutcome(
  decision: CertificateDecision,
  why: { reason: string; message: string },
  now: Date,
): CertificateOutcome {
  const base = baseStatus(decision, now);
  return {
    tally: 'failed',
    log: {
      level: 'warn',
      message: 'certificate needed but not ordered in this run; left for the next run',
      fields: { reason: decision.action.reason, runReason: why.reason },
    },
    event: undefined,
    status: { ...base, result: 'Failed', reason: why.reason, message: why.message },
  };
}

/**
 * A needed certificate left for the next run because the run's time or order budget is spent
 * (jobs/decide/run-budget.ts): result `Deferred`, counted as deferred (not failed), no Event
 * (nothing is wrong with it), and its failure memory left as it was, so no back-off is charged
 * and the next run orders it.
 */
export function deferredOutcome(
  decision: CertificateDecision,
  why: { reason: DeferReason; message: string },
  now: Date,
): CertificateOutcome {
  const base = baseStatus(decision, now);
  return {
    tally: 'deferred',
    log: {
      level: 'info',
      message: 'certificate needed; left for the next run, the run’s budget is spent',
      fields: { reason: decision.action.reason, deferReason: why.reason },
    },
    event: undefined,
    status: { ...base, result: 'Deferred', reason: why.reason, message: why.message },
  };
}

/** Reason of the Warning Event recorded when an order failed. */
export const ISSUANCE_FAILED = 'IssuanceFailed' satisfies OrderReason;

/** The log line before an order starts (an `Issue` decision). */
export function orderStartLog(action: Extract<Action, { kind: 'Issue' }>): LogLine {
  return {
    level: 'info',
    message: action.renewal ? 'renewing certificate' : 'issuing certificate',
    fields: { decision: action.kind, reason: action.reason, message: action.message },
  };
}

/**
 * The outcome of an order that stored a certificate valid until `issued.notAfter`: `Issued` or
 * `Renewed` (result, Event reason and count), failure memory cleared.
 */
export function issuedOutcome(
  decision: CertificateDecision & { action: Extract<Action, { kind: 'Issue' }> },
  issued: {
    notAfter: Date;
    serialNumber: string;
    notBefore?: Date;
    directoryUrl?: string;
    /** The new key, as `RSA 2048` (the key policy's): recorded as the entry's `keyType`. */
    keyType?: string;
  },
  now: Date,
  minimumValidityMs?: number,
): CertificateOutcome {
  const { certificate, action } = decision;
  // The replaced certificate's ARI record and facts are about another certificate: dropped. The
  // next run parses the new Secret once, records its facts and asks about its renewal window
  // (RFC 9773) then: asking right after issuance would cost one more request per certificate
  // and show nothing the next run would not (Let's Encrypt's Retry-After, 6 h, is shorter than
  // the check interval, so that run would ask again anyway).
  const {
    renewalInfo: _replaced,
    secretFacts: _replacedFacts,
    ...base
  } = withoutFailures(baseStatus(decision, now));
  const result: CertificateResult & OrderReason = action.renewal ? 'Renewed' : 'Issued';
  const message = `Certificate for ${certificate.hosts.join(', ')} stored in Secret ${certificate.secretName}, valid until ${issued.notAfter.toISOString()} (${action.reason}: ${action.message})`;
  return {
    tally: action.renewal ? 'renewed' : 'issued',
    log: {
      level: 'info',
      message: action.renewal ? 'certificate renewed' : 'certificate issued',
      // The directory and whether it is staging, so that nobody takes a staging certificate
      // (untrusted by browsers) for a real one.
      fields: {
        notAfter: issued.notAfter.toISOString(),
        serial: issued.serialNumber,
        ...(issued.directoryUrl
          ? { directory: issued.directoryUrl, staging: isStagingDirectory(issued.directoryUrl) }
          : {}),
      },
    },
    event: { type: 'Normal', reason: result, message },
    status: {
      ...base,
      lastSuccessAt: now.toISOString(),
      history: appendAttempt(decision.previous?.history, {
        at: now.toISOString(),
        result,
        reason: action.reason,
        message: `Valid until ${issued.notAfter.toISOString()}.`,
        ...(issued.directoryUrl ? { directoryUrl: issued.directoryUrl } : {}),
      }),
      ...(issued.keyType ? { keyType: issued.keyType } : {}),
      notAfter: issued.notAfter.toISOString(),
      ...(issued.notBefore
        ? {
            notBefore: issued.notBefore.toISOString(),
            ...(minimumValidityMs !== undefined
              ? {
                  renewalAt: renewalDueAt(
                    issued.notBefore,
                    issued.notAfter,
                    minimumValidityMs,
                  ).toISOString(),
                }
              : {}),
          }
        : {}),
      ...(issued.directoryUrl ? { directoryUrl: issued.directoryUrl } : {}),
      result,
      reason: action.reason,
      message,
    },
  };
}

/**
 * The outcome of an order that failed at `failedAt`: `Failed` with the failure's reason, one more
 * failure counted and the next attempt pushed back ({@link nextFailureStatus}); a Warning
 * `IssuanceFailed` Event. `checkedAt` (default `failedAt`) is when the decision was taken. The
 * failure's reason and message are also kept apart (`lastFailureReason`, `lastFailureMessage`),
 * where later back-off runs leave them, and added to the entry's history with `directoryUrl`
 * (LEGO_URL) when given.
 */
export function failedOutcome(
  decision: CertificateDecision,
  failure: IssuanceFailure,
  failedAt: Date,
  checkedAt: Date = failedAt,
  directoryUrl?: string,
): CertificateOutcome {
  const fields = nextFailureStatus(
    decision.previous,
    decision.certificate.hosts,
    failure,
    failedAt,
  );
  return {
    tally: 'failed',
    log: {
      level: 'error',
      message: 'certificate could not be obtained',
      fields: {
        reason: failure.reason,
        error: failure.message,
        failures: fields.failures,
        retryAfter: fields.retryAfter,
      },
    },
    event: {
      type: 'Warning',
      reason: ISSUANCE_FAILED,
      message: `${failure.message} Next attempt not before ${fields.retryAfter}.`,
    },
    status: {
      ...baseStatus(decision, checkedAt),
      ...fields,
      lastFailureReason: failure.reason,
      lastFailureMessage: failure.message,
      history: appendAttempt(decision.previous?.history, {
        at: failedAt.toISOString(),
        result: 'Failed',
        reason: failure.reason,
        message: failure.message,
        ...(directoryUrl ? { directoryUrl } : {}),
      }),
    },
  };
}

/**
 * A stable reason and a message for what an order threw, with the server's Retry-After: an ACME
 * problem type becomes `Acme<Type>` (`AcmeRateLimited`; `AcmeError` without one), one of our
 * errors its class name without `Error` (`SelfCheck`, `Routing`, `KubeApi`), anything else
 * `UnexpectedError`. Never throws.
 */
export function describeFailure(error: unknown): IssuanceFailure {
  if (error instanceof AcmeError) {
    const type = error.problemType?.replace('urn:ietf:params:acme:error:', '');
    return {
      reason: type ? `Acme${type.charAt(0).toUpperCase()}${type.slice(1)}` : 'AcmeError',
      message: error.message,
      ...(error.retryAfter ? { retryAfter: error.retryAfter } : {}),
    };
  }
  if (error instanceof KubeLegoError)
    return { reason: error.name.replace(/Error$/, ''), message: describeError(error) };
  return { reason: 'UnexpectedError', message: describeError(error) };
}

/** What the run does about one invalid TLS entry. */
export interface InvalidEntryOutcome {
  entry: InvalidEntry;
  log: LogLine;
  event: EventNote;
}

/**
 * Invalid TLS entries: each gets a warning log line and a Warning Event with its reason, and
 * counts as failed. A status entry (`Invalid`) is written per Secret named — several entries
 * naming one Secret share it — except when the name is invalid (it would make no valid
 * ConfigMap key, and the API server would refuse the whole status), or when a certificate is
 * decided for the same Secret (its entry, with its failure memory, must not be overwritten).
 */
export function invalidEntryOutcomes(
  invalid: readonly InvalidEntry[],
  decisions: readonly CertificateDecision[],
  now: Date,
): { entries: InvalidEntryOutcome[]; statuses: CertificateStatus[] } {
  const decided = new Set(
    decisions.map((d) => `${d.certificate.namespace}/${d.certificate.secretName}`),
  );
  const bySecret = new Map<string, CertificateStatus>();
  const entries: InvalidEntryOutcome[] = [];
  for (const entry of invalid) {
    entries.push({
      entry,
      log: {
        level: 'warn',
        message: 'invalid TLS entry',
        fields: {
          namespace: entry.ref.namespace,
          [entry.ref.kind.toLowerCase()]: entry.ref.name,
          entry: entry.ref.listener ?? entry.ref.index,
          secret: entry.secretName,
          reason: entry.reason,
          message: entry.message,
        },
      },
      event: { type: 'Warning', reason: entry.reason, message: entry.message },
    });
    const key = `${entry.ref.namespace}/${entry.secretName ?? ''}`;
    if (!entry.secretName || entry.reason === 'InvalidSecretName' || decided.has(key)) continue;
    const requester = requesterName(entry.ref);
    const known = bySecret.get(key);
    if (known) known.ingresses.push(requester);
    else
      bySecret.set(key, {
        namespace: entry.ref.namespace,
        secretName: entry.secretName,
        ingresses: [requester],
        hosts: [],
        notAfter: null,
        result: 'Invalid',
        reason: entry.reason,
        message: entry.message,
        checkedAt: now.toISOString(),
        failures: 0,
      });
  }
  return { entries, statuses: [...bySecret.values()] };
}

/**
 * The run's summary: `Succeeded` — the run itself worked; per-certificate failures are in the
 * counts, the status entries and the Events, not in the run's result (issue 10: the exit code
 * and `kube_lego_last_run_success` say whether the run worked). The act step turns it into
 * `Failed` with a run reason when the run stopped early (jobs/decide/failure-class.ts).
 */
export function runSummary(
  counts: RunCounts,
  entries: number,
  startedAt: Date,
  finishedAt: Date,
  recorded: { directoryUrl?: string; previous?: RunStatus } = {},
): RunStatus {
  const result = 'Succeeded';
  const { deferred, ...rest } = counts;
  // The last success is this run's end (the act step restores the previous one if it failed).
  const lastSuccessAt = finishedAt.toISOString();
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    result,
    entries,
    ...rest,
    ...(deferred > 0 ? { deferred } : {}),
    ...(recorded.directoryUrl ? { directoryUrl: recorded.directoryUrl } : {}),
    ...(lastSuccessAt ? { lastSuccessAt } : {}),
  };
}

/** The entry every outcome starts from: identity, hosts, the stored notAfter, failure memory. */
function baseStatus(decision: CertificateDecision, now: Date): CertificateStatus {
  const { certificate, facts, previous, secret, renewalAt, renewalInfo, secretFacts } = decision;
  const directoryUrl = facts ? secret?.annotations[SECRET_ANNOTATIONS.directoryUrl] : undefined;
  return {
    namespace: certificate.namespace,
    secretName: certificate.secretName,
    ingresses: certificate.requesters.map(requesterName),
    hosts: certificate.hosts,
    notAfter: facts ? facts.notAfter.toISOString() : null,
    ...(facts ? { notBefore: facts.notBefore.toISOString() } : {}),
    ...(facts && renewalAt ? { renewalAt: renewalAt.toISOString() } : {}),
    ...(directoryUrl ? { directoryUrl } : {}),
    ...(facts ? { keyType: formatKey(facts.key) } : {}),
    result: 'Valid',
    reason: '',
    message: '',
    checkedAt: now.toISOString(),
    // Failure memory carries over until a success or a Valid decision resets it.
    failures: previous?.failures ?? 0,
    ...(previous?.lastFailureAt ? { lastFailureAt: previous.lastFailureAt } : {}),
    ...(previous?.retryAfter ? { retryAfter: previous.retryAfter } : {}),
    ...(previous?.failedHosts ? { failedHosts: previous.failedHosts } : {}),
    // What happened before is kept by every run that does not add to it (a back-off, a valid
    // certificate, a run that stopped): only an attempt changes these.
    ...(previous?.lastFailureReason ? { lastFailureReason: previous.lastFailureReason } : {}),
    ...(previous?.lastFailureMessage ? { lastFailureMessage: previous.lastFailureMessage } : {}),
    ...(previous?.lastSuccessAt ? { lastSuccessAt: previous.lastSuccessAt } : {}),
    ...(previous?.history ? { history: previous.history } : {}),
    ...(facts && renewalInfo ? { renewalInfo } : {}),
    ...(facts && secretFacts ? { secretFacts } : {}),
  };
}

/**
 * A status with the failure memory cleared: after a success or a valid certificate. The failures
 * stay in `history`.
 */
function withoutFailures(status: CertificateStatus): CertificateStatus {
  const {
    lastFailureAt: _lastFailureAt,
    lastFailureReason: _lastFailureReason,
    lastFailureMessage: _lastFailureMessage,
    retryAfter: _retryAfter,
    failedHosts: _failedHosts,
    ...rest
  } = status;
  return { ...rest, failures: 0 };
}
