/**
 * The decision for one desired certificate: leave it, issue it, refuse to touch its Secret, or
 * wait out an earlier failure.
 */
import type { CertificateStatus } from '../../shared/status-entries.js';
import type { KeyPolicy } from '../key-type.js';
import type { DesiredCertificate } from '../model.js';
import { checkBackoff } from './issuance-backoff.js';
import type { PendingRequest } from '../../shared/status-entries.js';
import { evaluateCertificate, type CertificateReason } from './certificate-checks.js';
import { TLS_SECRET_TYPE } from '../tls-secret.js';
import type { ParsedSecret } from './certificate-facts.js';
import type { RenewalInfoRecord } from '../../shared/renewal-info.js';
import { usableRenewalWindow } from './renewal-window.js';

/**
 * Everything known about one desired certificate, gathered and parsed once before any decision
 * (cert-manager's `Input`). State that outlives a run (the failure memory today, ARI's suggested
 * window next) enters here, as one field.
 */
export interface CertificateInput {
  certificate: DesiredCertificate;
  /** The Secret `certificate.secretName`, parsed; `undefined` when it does not exist. */
  secret: ParsedSecret | undefined;
  /** The certificate's entry from the last run's status ConfigMap, if any. */
  previous: CertificateStatus | undefined;
  /** Pending operator requests for it (retry, renew); absent or empty: none. */
  requests?: readonly PendingRequest[];
  /**
   * What the job knows of the stored certificate's ACME Renewal Information (RFC 9773): asked in
   * this run, or stored by an earlier one; `undefined` when nothing is known.
   */
  renewalInfo?: RenewalInfoRecord;
}

/** The settings the decision reads. */
export interface DecideSettings {
  /** LEGO_URL. */
  directoryUrl: string;
  keyPolicy: KeyPolicy;
  /** LEGO_MINIMUM_VALIDITY in milliseconds. */
  minimumValidityMs: number;
}

/** What {@link decideAction} reads. */
export type ActionInput = CertificateInput & DecideSettings;

/** Why a certificate is needed (a reason of the check chain) and the sentence that says so. */
export interface NeedReason {
  reason: CertificateReason;
  message: string;
}

/** The outcome of {@link decideAction}, discriminated on `kind`. */
export type Action =
  /** The stored certificate is fine: nothing to do. */
  | { kind: 'Valid'; reason: 'UpToDate'; message: string }
  /** Order a certificate; `renewal` is true when the Secret already held one. */
  | ({ kind: 'Issue'; renewal: boolean } & NeedReason)
  /**
   * A certificate is needed but the Secret is not a `kubernetes.io/tls` Secret: it is never
   * replaced silently. `needed` says why a certificate would otherwise be ordered.
   */
  | { kind: 'Blocked'; reason: 'SecretTypeMismatch'; message: string; needed: NeedReason }
  /** A certificate is needed, but an earlier failure's back-off has not run out. */
  | { kind: 'BackingOff'; reason: 'BackingOff'; until: Date; message: string; needed: NeedReason };

/**
 * Decides what to do about one desired certificate at `now`:
 * 1. run the check chain ({@link evaluateCertificate}); nothing needed → `Valid`;
 * 2. the Secret exists with a type other than `kubernetes.io/tls` → `Blocked`
 *    (`SecretTypeMismatch`): the user's Secret is not overwritten, and nothing is ordered, since
 *    an order whose result cannot be stored would be repeated every run and burn Let's Encrypt's
 *    rate limits;
 * 3. an earlier failure's back-off still runs ({@link checkBackoff}) → `BackingOff`, unless an
 *    operator asked to retry or renew (jobs/decide/operator-requests.ts): the request is the
 *    operator's word that the cause was fixed;
 * 4. otherwise → `Issue`, with `renewal` true when the Secret already holds a `tls.crt`.
 * Never throws.
 */
export function decideAction(input: ActionInput, now: Date): Action {
  const { certificate, secret, previous } = input;
  const requests = input.requests ?? [];
  const evaluation = evaluateCertificate(
    {
      secret,
      renewalRequested: requests.some((r) => r.kind === 'renew'),
      hosts: certificate.hosts,
      directoryUrl: input.directoryUrl,
      keyPolicy: input.keyPolicy,
      minimumValidityMs: input.minimumValidityMs,
      renewalWindow: renewalWindowOf(input),
    },
    now,
  );
  if (!evaluation.needed) {
    return {
      kind: 'Valid',
      reason: 'UpToDate',
      message: `The certificate in Secret ${certificate.namespace}/${certificate.secretName} covers ${certificate.hosts.join(', ')} and is not due for renewal.`,
    };
  }
  const needed: NeedReason = { reason: evaluation.reason, message: evaluation.message };
  if (secret !== undefined && secret.view.type !== TLS_SECRET_TYPE) {
    const { view } = secret;
    return {
      kind: 'Blocked',
      reason: 'SecretTypeMismatch',
      message: `Secret ${view.namespace}/${view.name} has type ${JSON.stringify(view.type)}, not ${TLS_SECRET_TYPE}, so it is not replaced. A certificate is needed (${evaluation.reason}): ${evaluation.message} Delete the Secret or choose another secretName.`,
      needed,
    };
  }
  const backoff =
    requests.length > 0
      ? ({ blocked: false } as const)
      : checkBackoff(previous, certificate.hosts, now);
  if (backoff.blocked) {
    return {
      kind: 'BackingOff',
      reason: backoff.reason,
      until: backoff.until,
      message: `${backoff.message} A certificate is needed: ${evaluation.message}`,
      needed,
    };
  }
  return {
    kind: 'Issue',
    renewal: secret?.hasCertificate === true,
    ...needed,
  };
}

/**
 * The usable ARI window of the stored certificate ({@link usableRenewalWindow}), or `undefined`
 * when the lifetime rule decides.
 */
export function renewalWindowOf(
  input: Pick<CertificateInput, 'secret' | 'renewalInfo'>,
): ReturnType<typeof usableRenewalWindow> {
  const facts = input.secret?.facts;
  if (facts === undefined) return undefined;
  return usableRenewalWindow(input.renewalInfo, facts.certificateId, facts.notAfter);
}
