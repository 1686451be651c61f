/**
 * Pure: whose failure is it? Every failure of an order belongs either to the certificate (its
 * names, its Secret: back off that certificate, try the others) or to the run (the ACME server
 * or the Kubernetes API cannot be used, or the run was told to stop: stop the run once, and
 * charge no certificate for it). See docs/design.md, "Failure classes".
 */
import {
  AcmeError,
  AcmeUnavailableError,
  describeError,
  KubeApiError,
  KubeLegoError,
  RouteUnreachableError,
  SecretWriteRefusedError,
  StoppedError,
} from '../../shared/errors.js';
import type { CertificateFailureReason, PreflightReason, RunReason } from './reasons.js';

/** Reasons of failures that stop the run (the vocabulary is jobs/decide/reasons.ts). */
export const RUN_FAILURE_REASONS = {
  /** The ACME server is unreachable, does not answer in time, or answers 5xx. */
  acmeUnavailable: 'AcmeUnavailable',
  /** The Kubernetes API does not answer (timeout, refused connection) or answers 5xx. */
  kubeApiUnavailable: 'KubeApiUnavailable',
  /** SIGTERM or SIGINT: no new order, the one in progress given LEGO_STOP_GRACE_PERIOD. */
  stopped: 'Stopped',
} as const satisfies Record<string, RunReason>;
export type RunFailureReason = (typeof RUN_FAILURE_REASONS)[keyof typeof RUN_FAILURE_REASONS];

/** A certificate's own failures with a fixed reason (jobs/decide/reasons.ts). */
export const CERTIFICATE_FAILURE = {
  secretWriteRefused: 'SecretWriteRefused',
  unexpected: 'UnexpectedError',
} as const satisfies Record<string, CertificateFailureReason>;

/** A classified failure: `scope` says who is charged for it. */
export type FailureClass =
  | { scope: 'run'; reason: RunFailureReason; message: string }
  | { scope: 'certificate'; reason: string; message: string; retryAfter?: Date };

/**
 * Classifies what an order threw. Never throws.
 * - run: AcmeUnavailableError, a KubeApiError without an answer or with a 5xx status (also as
 *   the cause of another error), StoppedError;
 * - certificate: everything else, with a stable reason: `Acme<ProblemType>` for ACME problems
 *   (RFC 8555 §6.7), the error class's name without `Error` for our own errors (for example
 *   `SecretWriteRefused`, `RouteUnreachable`, `SelfCheck`), `UnexpectedError` otherwise; and the server's
 *   Retry-After when it sent one.
 */
export function classifyFailure(error: unknown): FailureClass {
  // An answer refusing the write (even a failing webhook's 500) is about that Secret.
  if (error instanceof SecretWriteRefusedError)
    return {
      scope: 'certificate',
      reason: CERTIFICATE_FAILURE.secretWriteRefused,
      message: error.message,
    };
  // A host whose route does not reach the responder: found before the order, so it cost the
  // ACME server nothing, but it backs off like a failed validation would.
  if (error instanceof RouteUnreachableError)
    return {
      scope: 'certificate',
      reason: 'RouteUnreachable' satisfies PreflightReason,
      message: error.message,
    };
  if (error instanceof StoppedError)
    return { scope: 'run', reason: RUN_FAILURE_REASONS.stopped, message: error.message };
  if (error instanceof AcmeUnavailableError)
    return { scope: 'run', reason: RUN_FAILURE_REASONS.acmeUnavailable, message: error.message };
  const kube = unavailableKubeApi(error);
  if (kube)
    return {
      scope: 'run',
      reason: RUN_FAILURE_REASONS.kubeApiUnavailable,
      message: describeError(error),
    };
  if (error instanceof AcmeError) {
    const type = error.problemType?.replace('urn:ietf:params:acme:error:', '');
    return {
      scope: 'certificate',
      reason: type ? `Acme${type.charAt(0).toUpperCase()}${type.slice(1)}` : 'AcmeError',
      message: error.message,
      ...(error.retryAfter ? { retryAfter: error.retryAfter } : {}),
    };
  }
  if (error instanceof KubeLegoError)
    return {
      scope: 'certificate',
      reason: error.name.replace(/Error$/, ''),
      message: describeError(error),
    };
  return {
    scope: 'certificate',
    reason: CERTIFICATE_FAILURE.unexpected,
    message: describeError(error),
  };
}

/** The KubeApiError in `error`'s cause chain that says the API is unusable, if any. */
function unavailableKubeApi(error: unknown): KubeApiError | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof KubeApiError && (current.status === undefined || current.status >= 500))
      return current;
    current = current.cause;
  }
  return undefined;
}
