/**
 * Carries out idle-collection.ts: looks at the challenge port's traffic every period and, once it
 * has been quiet after a burst, runs one memory-reducing garbage collection.
 *
 * The collection is V8's `gc()`, which Node exposes only with `--expose-gc` (the manifests give
 * the responder that flag). Without it `exposedGarbageCollection()` is `undefined` and main.ts
 * starts no collector: the responder works the same, its memory after a load just stays higher.
 */
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  IDLE_COLLECTION,
  INITIAL_IDLE_COLLECTION_STATE,
  lookAtTraffic,
  type IdleCollectionPolicy,
} from './idle-collection.js';

/** V8's gc() with the options its GC extension reads (`--expose-gc`). */
type ExposedGc = (options?: { type?: string; execution?: string; flavor?: string }) => unknown;

/**
 * One memory-reducing full garbage collection, run now on this thread; `undefined` when Node runs
 * without `--expose-gc`. The `last-resort` flavour is what makes V8 compact the heap and give its
 * empty pages back (V8's CollectAllAvailableGarbage); a plain `gc()` frees the objects but keeps
 * the pages: measured, RSS unchanged after it. It keeps optimized code. Measured with
 * `--trace-gc` after the benchmark: two memory-reducing mark-compacts of ~24 ms each, committed
 * heap 19.3 → 13.5 MB.
 */
export function exposedGarbageCollection(): (() => void) | undefined {
  const gc = (globalThis as { gc?: ExposedGc }).gc;
  if (typeof gc !== 'function') return undefined;
  return () => {
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  };
}

/** Runs `collect` when the traffic has been quiet after a burst (idle-collection.ts). */
export class IdleCollector {
  private state = INITIAL_IDLE_COLLECTION_STATE;
  private timer: NodeJS.Timeout | undefined;
  private readonly policy: IdleCollectionPolicy;

  /**
   * @param options.readTraffic  connections accepted plus requests received so far (it only grows)
   * @param options.collect  the collection (`exposedGarbageCollection()`)
   */
  constructor(
    private readonly options: {
      readTraffic: () => number;
      collect: () => void;
      logger: Logger;
      policy?: IdleCollectionPolicy;
    },
  ) {
    this.policy = options.policy ?? IDLE_COLLECTION;
  }

  /**
   * Starts looking every period; traffic before now does not count. The timer does not keep the
   * process alive. Idempotent.
   */
  start(): void {
    if (this.timer !== undefined) return;
    const traffic = this.options.readTraffic();
    this.state = { ...INITIAL_IDLE_COLLECTION_STATE, atCollection: traffic, atLastLook: traffic };
    this.timer = setInterval(() => {
      this.look();
    }, this.policy.periodMs);
    this.timer.unref();
  }

  /** Stops looking. Idempotent. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private look(): void {
    const traffic = this.options.readTraffic();
    const { state, collect } = lookAtTraffic(this.state, traffic, this.policy);
    const sinceCollection = traffic - this.state.atCollection;
    this.state = state;
    if (!collect) return;
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    try {
      this.options.collect();
    } catch (error) {
      // Best effort: a failed collection leaves memory as it was; the responder goes on.
      this.options.logger.warn('the idle garbage collection failed', {
        error: describeError(error),
      });
      return;
    }
    this.options.logger.debug('garbage collected after a burst', {
      traffic: sinceCollection,
      ms: Math.round(performance.now() - started),
      rssMbBefore: Math.round(rssBefore / 2 ** 20),
      rssMbAfter: Math.round(process.memoryUsage.rss() / 2 ** 20),
    });
  }
}
