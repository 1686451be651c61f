/**
 * A request to stop the run, from SIGTERM or SIGINT (Kubernetes sends SIGTERM when a Job is
 * deleted, passes its deadline, or its node drains). What follows is the run's contract:
 * no new order; the order in progress may finish within the grace period (LEGO_STOP_GRACE_PERIOD),
 * otherwise it is abandoned; then the usual end of a run — tokens and routes removed, status
 * written, Lease released — and an exit code that says the run was stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoppedError } from '../../shared/errors.js';

export class StopRequest {
  private signalName: string | undefined;
  private readonly abandonController = new AbortController();

  /**
   * @param graceMs how long the order in progress may still run after the request.
   * @param onRequest called once, with the signal, when the first request arrives.
   */
  constructor(
    private readonly graceMs: number,
    private readonly onRequest: (signal: string) => void = () => undefined,
  ) {}

  /** The signal that asked to stop; `undefined` while none did. */
  get requested(): string | undefined {
    return this.signalName;
  }

  /** Aborted once the grace period after a stop request has run out: abandon the work. */
  get abandon(): AbortSignal {
    return this.abandonController.signal;
  }

  /** Records the first stop request and starts the grace period; later calls change nothing. */
  request(signal: string): void {
    if (this.signalName) return;
    this.signalName = signal;
    this.onRequest(signal);
    void sleep(this.graceMs, undefined, { ref: false }).then(() => {
      this.abandonController.abort(new StoppedError(signal));
    });
  }

  /**
   * Runs `work` to its end, unless the run is stopped and the grace period runs out first while
   * `committed()` is false (an order that reached finalization is always finished: what Let's
   * Encrypt issues is never thrown away).
   * @throws StoppedError when the grace period ran out; whatever `work` throws otherwise.
   */
  async withinGrace<T>(work: Promise<T>, committed: () => boolean = () => false): Promise<T> {
    const abandon = this.abandonController.signal;
    let onAbandon: (() => void) | undefined;
    const abandoned = new Promise<never>((_, reject) => {
      onAbandon = () => {
        if (!committed()) reject(abandon.reason as StoppedError);
      };
      if (abandon.aborted) onAbandon();
      else abandon.addEventListener('abort', onAbandon, { once: true });
    });
    try {
      return await Promise.race([work, abandoned]);
    } finally {
      if (onAbandon) abandon.removeEventListener('abort', onAbandon);
      // The abandoned work may still settle; its outcome is no longer anyone's business.
      work.catch(() => undefined);
    }
  }
}
