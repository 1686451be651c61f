/**
 * Keeps an in-memory copy of one ConfigMap current: list, then watch from the list's
 * resourceVersion, the way client-go's reflector does — without which the responder would not
 * answer a new token within a second, nor survive the API server going away.
 *
 * - A watch the server ends normally (its timeout) resumes from the last resourceVersion seen.
 * - `410 Gone` (the resourceVersion has expired, e.g. after an API server restart) → list again.
 * - Any other failure → wait (a reconnect delay: capped, exponential, with jitter), then resume the watch
 *   from the last resourceVersion, or list again if no list has succeeded yet.
 * - A watch that stays silent longer than `watchdogMs` is dropped and resumed: the API server
 *   sends a bookmark about every minute, so silence means the connection is dead.
 * Meanwhile the last copy stays in place: the responder keeps answering the last known tokens.
 * A ConfigMap that does not exist is an empty one, and is watched until it appears.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeApiError, describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { DEFAULT_RECONNECT, reconnectDelay, type ReconnectPolicy } from './reconnect-jitter.js';
import type { ConfigMapApi, ConfigMapData, WatchEvent } from './configmap-api.js';
import type { RestartReason } from './metrics.js';

export interface ConfigMapWatcherTiming {
  /** The server ends each watch after this long; it is then resumed (seconds). */
  watchTimeoutSeconds: number;
  /** A watch with no event for this long is dropped and resumed (ms). */
  watchdogMs: number;
  /** A watch the server ends sooner than this, with no event, counts as a failure (ms). */
  minWatchMs: number;
  reconnect: ReconnectPolicy;
}

/** Five-minute watches (client-go uses 5–10), a 150 s watchdog, and {@link DEFAULT_RECONNECT}. */
export const DEFAULT_TIMING: ConfigMapWatcherTiming = {
  watchTimeoutSeconds: 300,
  watchdogMs: 150_000,
  minWatchMs: 1_000,
  reconnect: DEFAULT_RECONNECT,
};

export interface ConfigMapWatcherOptions {
  api: ConfigMapApi;
  namespace: string;
  name: string;
  logger: Logger;
  /** Called with the ConfigMap's whole data after each list and change; `undefined`: absent. */
  onChange: (data: ConfigMapData) => void;
  /** Called whenever the copy is known to be in sync (a list, a watch opening, an event). */
  onSynced?: (at: Date) => void;
  /** Called each time a watch is started again after a failure, an expiry or silence. */
  onRestart?: (reason: RestartReason) => void;
  timing?: Partial<ConfigMapWatcherTiming>;
  now?: () => Date;
  random?: () => number;
}

class SilentWatch extends Error {}

/** A list-then-watch loop over one ConfigMap. Start it once; stop it once. */
export class ConfigMapWatcher {
  private readonly timing: ConfigMapWatcherTiming;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private listed = false;
  /** The last resourceVersion seen; `undefined` when the next step must be a list. */
  private resourceVersion: string | undefined;

  constructor(private readonly options: ConfigMapWatcherOptions) {
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  /** Whether a list has succeeded: from then on the copy is meaningful. */
  get hasListed(): boolean {
    return this.listed;
  }

  /** Starts the loop in the background. Never throws; failures are logged and retried. */
  start(): void {
    this.running ??= this.run();
  }

  /** Stops the loop and closes the watch; resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) {
          const listed = await this.options.api.list(
            this.options.namespace,
            this.options.name,
            this.stopping.signal,
          );
          this.resourceVersion = listed.resourceVersion;
          this.options.onChange(listed.configMap?.data);
          this.synced();
          if (!this.listed || failures > 0) {
            logger.info('listed the ConfigMap', {
              exists: listed.configMap !== undefined,
              resourceVersion: listed.resourceVersion,
            });
          }
          this.listed = true;
          failures = 0;
        }
        const outcome = await this.watchFrom(this.resourceVersion, failures > 0);
        if (outcome.opened && !outcome.quick) failures = 0;
        if (outcome.quick) throw new Error('the API server ended the watch at once');
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        const reason: RestartReason = isExpired(error)
          ? 'expired'
          : error instanceof SilentWatch
            ? 'silent'
            : 'error';
        this.options.onRestart?.(reason);
        if (reason === 'expired') {
          // Kubernetes API concepts, "Efficient detection of changes": after 410 Gone a client
          // must list again; no resourceVersion it holds can be watched from.
          logger.info('the watch resourceVersion has expired; listing again', {
            resourceVersion: this.resourceVersion,
          });
          this.resourceVersion = undefined;
          continue;
        }
        failures++;
        const delay = reconnectDelay(failures, this.timing.reconnect, this.options.random);
        logger.warn(
          reason === 'silent'
            ? 'the watch went silent; starting it again'
            : 'watching the ConfigMap failed; keeping the last copy and retrying',
          { error: reason === 'silent' ? undefined : describeError(error), retryInMs: delay },
        );
        try {
          await sleep(delay, undefined, { signal: this.stopping.signal });
        } catch {
          break; // stopped while waiting
        }
      }
    }
  }

  private synced(): void {
    this.options.onSynced?.(this.now());
  }

  /**
   * One watch, until the server ends it; each event moves `this.resourceVersion` on. Returns
   * whether the server accepted the watch, and `quick` when it ended at once with nothing in it.
   * @throws KubeApiError, SilentWatch, or whatever the API threw.
   */
  private async watchFrom(
    from: string,
    recovering: boolean,
  ): Promise<{ opened: boolean; quick: boolean }> {
    const { logger } = this.options;
    const attempt = new AbortController();
    const signal = AbortSignal.any([this.stopping.signal, attempt.signal]);
    let opened = false;
    let events = 0;
    let failure: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const watchdog = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        failure = new SilentWatch(`no event for ${this.timing.watchdogMs} ms`);
        attempt.abort();
      }, this.timing.watchdogMs);
    };
    const started = Date.now();
    watchdog();
    try {
      await this.options.api.watch({
        namespace: this.options.namespace,
        name: this.options.name,
        resourceVersion: from,
        timeoutSeconds: this.timing.watchTimeoutSeconds,
        signal,
        onOpen: () => {
          opened = true;
          watchdog();
          this.synced();
          if (recovering) logger.info('watching the ConfigMap again', { resourceVersion: from });
        },
        onEvent: (event: WatchEvent) => {
          if (failure !== undefined) return;
          events++;
          watchdog();
          if (event.type === 'ERROR') {
            failure = new KubeApiError('watch ConfigMap', event.code, event.reason, event.message);
            attempt.abort();
            return;
          }
          this.resourceVersion = event.resourceVersion;
          if (event.type !== 'BOOKMARK') {
            this.options.onChange(event.type === 'DELETED' ? undefined : event.data);
            logger.debug('ConfigMap event', {
              type: event.type,
              resourceVersion: event.resourceVersion,
            });
          }
          this.synced();
        },
      });
    } catch (error) {
      throw failure ?? error;
    } finally {
      clearTimeout(timer);
    }
    if (failure !== undefined) throw failure;
    const quick = events === 0 && Date.now() - started < this.timing.minWatchMs;
    return { opened, quick };
  }
}

function isExpired(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 410;
}
