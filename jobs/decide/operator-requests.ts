/**
 * Requests an operator leaves for the next run: "retry now" (forget the back-off) and "renew
 * now" (re-issue although the certificate is valid). They are keys of the status ConfigMap
 * (format: shared/status-entries.ts, {@link requestKey}), because the job runs without a shell
 * from the CronJob's template — `kubectl create job --from=cronjob/…` cannot change its
 * arguments — so a request must be data the next run reads; the `retry` and `renew` commands
 * write it, and so can a plain `kubectl patch`. docs/operating.md says why it is not an
 * annotation on the user's Ingress. Pure.
 */
import {
  REQUEST_KINDS,
  requestKey,
  type PendingRequest,
  type RequestKind,
} from '../../shared/status-entries.js';

export { REQUEST_KINDS, requestKey, type PendingRequest, type RequestKind };

/**
 * The requests pending for the certificate stored in `namespace/secretName`, at most one per
 * kind. Never throws.
 */
export function findRequests(
  certificate: { namespace: string; secretName: string },
  pending: readonly PendingRequest[],
): PendingRequest[] {
  return REQUEST_KINDS.flatMap((kind) => {
    const key = requestKey(kind, certificate.namespace, certificate.secretName);
    return pending.filter((r) => r.key === key).slice(0, 1);
  });
}
