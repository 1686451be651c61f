/**
 * Optimistic concurrency, the one way the job retries a 409: read, change, write with the read
 * resourceVersion; when someone else wrote in between, the apiserver answers 409 Conflict and the
 * whole read-change-write starts again from a fresh read. Used for users' Ingresses, the routers'
 * deletes with preconditions, certificate Secrets and the account Secret.
 */
import { isConflict } from '../../shared/kube/api-error.js';

/** How many read-change-write attempts are made before a Conflict is given up on. */
export const CONFLICT_ATTEMPTS = 5;

/**
 * Calls `attempt` until it does not fail with 409 Conflict, at most `attempts` times. `attempt`
 * must read afresh each time. `onConflict` is told of each retried conflict.
 * @throws the last Conflict when every attempt conflicted, or any other error at once.
 */
export async function retryOnConflict<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: { attempts?: number; onConflict?: (attemptNumber: number) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? CONFLICT_ATTEMPTS;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!isConflict(error) || attemptNumber >= attempts) throw error;
      options.onConflict?.(attemptNumber);
    }
  }
}
