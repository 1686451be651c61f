/**
 * The error the challenge routers throw. It names the provider and the certificate whose traffic
 * could not be routed, and keeps the underlying failure (usually a KubeApiError) as `cause`.
 */
import type { RoutingProvider } from '../model.js';
import { KubeLegoError } from '../../shared/errors.js';

/**
 * Challenge traffic could not be routed to the responder (or the routes could not be removed).
 * `provider` says which router failed; the message says which object and why; `cause` keeps the
 * original error (a KubeApiError carries the HTTP status and the Status reason).
 */
export class RoutingError extends KubeLegoError {
  constructor(
    readonly provider: RoutingProvider,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider} challenge routing: ${message}`, options);
  }
}
