/**
 * Records what the API server reports about a collection while a job runs, so a test can assert
 * on objects that existed only for a moment (a challenge route during an order) without polling.
 *
 * A watch delivers the changes of one collection in resourceVersion order. To know that every
 * change made by a finished job has arrived, the test writes a marker object into the same
 * collection afterwards and waits for its event: everything before it has been delivered.
 */
import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import { adminKubeConfig } from '../env/context.js';

export interface WatchEvent<T extends KubernetesObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchRecorder<T extends KubernetesObject> {
  /** Every event so far, in order. */
  readonly events: readonly WatchEvent<T>[];
  /** Resolves with the first event (so far or to come) for which `match` holds. */
  until(match: (event: WatchEvent<T>) => boolean): Promise<WatchEvent<T>>;
  /** Ends the watch. */
  stop(): void;
}

/**
 * Starts watching `path` (e.g. `/apis/networking.k8s.io/v1/namespaces/x/ingresses`) and resolves
 * once the watch is open, so that nothing the test triggers afterwards can be missed.
 * @throws Error when the watch cannot be opened; a later failure rejects pending `until` calls.
 */
export async function recordWatch<T extends KubernetesObject>(
  path: string,
): Promise<WatchRecorder<T>> {
  const events: WatchEvent<T>[] = [];
  const waiters: {
    match: (e: WatchEvent<T>) => boolean;
    resolve: (e: WatchEvent<T>) => void;
    reject: (e: Error) => void;
  }[] = [];
  let ended: Error | undefined;
  const watch = new Watch(adminKubeConfig());
  const request = await watch.watch(
    path,
    { allowWatchBookmarks: false },
    (type, object) => {
      const event = { type: type as WatchEvent<T>['type'], object: object as T };
      events.push(event);
      for (const waiter of [...waiters]) {
        if (!waiter.match(event)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    (error: unknown) => {
      ended = new Error(
        `the watch of ${path} ended: ${error instanceof Error ? error.message : 'closed'}`,
      );
      for (const waiter of waiters.splice(0)) waiter.reject(ended);
    },
  );
  return {
    events,
    until(match) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
    stop() {
      request.abort();
    },
  };
}
