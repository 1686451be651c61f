/**
 * The port through which the job routes HTTP-01 challenge traffic (RFC 8555 §8.3:
 * http://<host>/.well-known/acme-challenge/<token> on port 80) to the responder while an order
 * runs, one implementation per provider. See docs/routing.md for the objects, their lifetime and
 * the RBAC they need. The implementations are made by `routers.ts`.
 */
import type { JobSettings } from '../config.js';
import type { DesiredCertificate } from '../model.js';

/**
 * Routes challenge traffic for one certificate at a time. The job calls open() before asking
 * the ACME server to validate, close() in a `finally` once the order is done (also when it
 * failed), and cleanup() once at the end of the run (also when the run failed).
 */
export interface ChallengeRouter {
  /**
   * Makes http://<host>/.well-known/acme-challenge/* for every host of `certificate` reach the
   * responder. Idempotent. When it throws, no half-made route is left: what it wrote for this
   * certificate is undone (the shared responder Service stays until cleanup()).
   * @throws RoutingError (a KubeLegoError, cause kept) naming what failed.
   */
  open(certificate: DesiredCertificate): Promise<void>;
  /**
   * Removes what open() added for `certificate`. Idempotent; absent objects are fine.
   * @throws RoutingError naming what could not be removed (cleanup() tries again).
   */
  close(certificate: DesiredCertificate): Promise<void>;
  /**
   * End of run: removes every routing object the job created (only objects labelled
   * MANAGED_BY), including leftovers of a crashed earlier run; the gce router also removes the
   * challenge paths left in users' Ingresses (it finds them itself; no argument is needed).
   * @throws RoutingError listing what failed (everything is attempted).
   */
  cleanup(): Promise<void>;
}

/** The settings the routers read. `watchNamespace` (default: all) bounds gce's cleanup search. */
export type RoutingSettings = Pick<
  JobSettings,
  | 'namespace'
  | 'port'
  | 'serviceSelector'
  | 'serviceNameNginx'
  | 'serviceNameGce'
  | 'ingressNameNginx'
  | 'httpRouteName'
> &
  Partial<Pick<JobSettings, 'watchNamespace'>>;
