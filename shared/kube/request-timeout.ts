/**
 * The error of a Kubernetes API request that was not answered in time (LEGO_KUBE_TIMEOUT), or
 * not sent because an earlier one was not (shared/kube/kube-http.ts).
 *
 * Why every request has a limit: a frozen API server (a stopped process, a dead connection
 * through a load balancer) would hold a call forever, so a CronJob run would hang until its
 * deadline and `concurrencyPolicy: Forbid` would then skip the next runs.
 */
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
