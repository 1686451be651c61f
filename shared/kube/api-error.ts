/**
 * Adapter: turns what `@kubernetes/client-node` throws into {@link KubeApiError}. Its
 * `ApiException` carries a numeric `code` and the raw response `body`, a Status object as JSON
 * whose `reason` and `message` say what went wrong.
 */
import { ApiException } from '@kubernetes/client-node';
import { KubeApiError } from '../errors.js';
import { timeoutOf } from './request-timeout.js';

/** Wraps any error from a Kubernetes API call; the original stays as `cause`. */
export function toKubeApiError(operation: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const timeout = timeoutOf(error);
  if (timeout)
    return new KubeApiError(operation, undefined, 'Timeout', timeout.message, { cause: timeout });
  if (error instanceof ApiException) {
    const code = typeof error.code === 'number' ? error.code : undefined;
    let reason: string | undefined;
    let detail = '';
    const body: unknown = error.body;
    if (typeof body === 'string') {
      try {
        const status = JSON.parse(body) as { reason?: string; message?: string };
        reason = status.reason;
        detail = status.message ?? body;
      } catch {
        detail = body;
      }
    } else if (body && typeof body === 'object') {
      const status = body as { reason?: string; message?: string };
      reason = status.reason;
      detail = status.message ?? JSON.stringify(body);
    }
    return new KubeApiError(operation, code, reason, detail.slice(0, 500) || 'no detail', {
      cause: error,
    });
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
  if (error instanceof KubeApiError) return error.status;
  if (error instanceof ApiException) return typeof error.code === 'number' ? error.code : undefined;
  return undefined;
}
