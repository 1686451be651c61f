/**
 * How every adapter of the job calls the Kubernetes API: each failure becomes a KubeApiError
 * that names the operation and keeps the transport's error (which names the method and path,
 * shared/kube/kube-http.ts) as `cause`. The one place where
 * the job wraps API errors; adapters call through these rather than catching by hand.
 */
import { isNotFound, toKubeApiError } from '../../shared/kube/api-error.js';

/**
 * Runs one API call.
 * @throws KubeApiError naming `operation`, whatever the call threw.
 */
export async function kubeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toKubeApiError(operation, error);
  }
}

/**
 * Runs one API call whose target may be absent: a 404 yields `undefined` (absence is data).
 * @throws KubeApiError naming `operation` for any other failure.
 */
export async function kubeCallUnlessNotFound<T>(
  operation: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toKubeApiError(operation, error);
  }
}
