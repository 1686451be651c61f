/**
 * Adapter: a time limit on every Kubernetes API request a KubeConfig makes, and what follows
 * when the API server stops answering.
 *
 * @kubernetes/client-node 1.4 sends requests with no timeout: a frozen API server (a stopped
 * process, a dead connection through a load balancer) holds a call forever, so a CronJob run
 * hangs until its deadline and `concurrencyPolicy: Forbid` then skips the next runs. Every
 * request made through the instrumented KubeConfig carries an AbortSignal that fires after the
 * limit; it covers connecting, sending and reading the whole answer. After one request timed out
 * the API server is treated as gone for the rest of the process: later requests fail at once
 * instead of each waiting out the limit, so a run over a frozen API server ends after one
 * timeout rather than one per remaining call.
 */
import { getEventListeners } from 'node:events';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeLegoError } from '../errors.js';
import { formatDuration } from '../duration.js';

/**
 * A request was not answered in time, or was not sent because an earlier one was not. The
 * message names the request (method and path) and the limit.
 */
export class KubeRequestTimeoutError extends KubeLegoError {
  constructor(
    readonly request: string,
    readonly timeoutMs: number,
    readonly notSent: boolean,
  ) {
    super(
      notSent
        ? `not sent: the API server did not answer ${request} within ${formatDuration(timeoutMs)} (LEGO_KUBE_TIMEOUT)`
        : `${request}: no answer within ${formatDuration(timeoutMs)} (LEGO_KUBE_TIMEOUT)`,
    );
  }
}

interface LimitState {
  /** The first request that timed out; every later request fails at once. */
  timedOut: KubeRequestTimeoutError | undefined;
}

// The job makes one KubeConfig per process; the last instrumented one explains AbortErrors.
let last: LimitState | undefined;

/**
 * Instruments `config` in place: every request gets `timeoutMs` from the moment it is prepared
 * to the end of its answer. Use {@link timeoutOf} to explain an aborted request.
 */
export function limitKubeRequests(config: KubeConfig, timeoutMs: number): void {
  const state: LimitState = { timedOut: undefined };
  last = state;
  const original = config.applySecurityAuthentication.bind(config);
  config.applySecurityAuthentication = async (context) => {
    const request = `${context.getHttpMethod()} ${new URL(context.getUrl()).pathname}`;
    if (state.timedOut) throw new KubeRequestTimeoutError(state.timedOut.request, timeoutMs, true);
    const controller = new AbortController();
    const timer = setTimeout(() => {
      // The HTTP client listens for 'abort' from sending the request until the answer's last
      // byte: no listener means the request is over, and nothing timed out.
      if (getEventListeners(controller.signal, 'abort').length === 0) return;
      state.timedOut ??= new KubeRequestTimeoutError(request, timeoutMs, false);
      controller.abort(state.timedOut);
    }, timeoutMs);
    // The timer must not keep a finished run alive.
    timer.unref();
    context.setSignal(controller.signal);
    await original(context);
  };
}

/**
 * The timeout behind an error thrown by a request of an instrumented KubeConfig: the error
 * itself when it is one, a {@link KubeRequestTimeoutError} when the request was aborted by its
 * time limit (node-fetch reports that as a bare AbortError), `undefined` otherwise.
 */
export function timeoutOf(error: unknown): KubeRequestTimeoutError | undefined {
  if (error instanceof KubeRequestTimeoutError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' && last?.timedOut) return last.timedOut;
  return undefined;
}
