/**
 * Adapter: what the job's Kubernetes API calls throw, as {@link KubeApiError}, and questions
 * about it. shared/kube/kube-http.ts throws KubeApiError already; anything else (a bug, a
 * credential that cannot be read) is wrapped here so that every failure names its operation.
 */
import { KubeApiError } from '../errors.js';

/**
 * The error of `operation`: a KubeApiError of another operation (the transport names the method
 * and path) is renamed, keeping status, reason and detail, with the original as `cause`; any
 * other error is wrapped.
 */
export function toKubeApiError(operation: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) {
    if (error.operation === operation) return error;
    return new KubeApiError(operation, error.status, error.reason, error.detail, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KubeApiError(operation, undefined, undefined, message, { cause: error });
}

/** Whether an error from the API is a 404. */
export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

/** Whether an error from the API is a 409 (stale resourceVersion or already exists). */
export function isConflict(error: unknown): boolean {
  return statusOf(error) === 409;
}

/** The HTTP status of an API error, if the server answered. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof KubeApiError ? error.status : undefined;
}
