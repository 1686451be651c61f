/**
 * The port through which the job routes HTTP-01 challenge traffic (RFC 8555 §8.3:
 * http://<host>/.well-known/acme-challenge/<token> on port 80) to the responder while an order
 * runs, one implementation per provider. See docs/routing.md for the objects, their lifetime and
 * the RBAC they need.
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { JobSettings, Provider } from '../config.js';
import type { DesiredCertificate } from '../model.js';
import type { Logger } from '../../shared/logger.js';
import { GceBackend } from './gce-backend.js';
import { GceChallengeRouter } from './gce-router.js';
import { NginxChallengeRouter } from './nginx-router.js';
import { ResponderService } from './responder-service.js';

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
> &
  Partial<Pick<JobSettings, 'watchNamespace'>>;

/**
 * Makes one router per provider for one run. They share the responder Service (applied once,
 * deleted once per run) and must not be reused across runs. Makes no request.
 */
export function createChallengeRouters(deps: {
  kubeConfig: KubeConfig;
  settings: RoutingSettings;
  logger: Logger;
}): Record<Provider, ChallengeRouter> {
  const { kubeConfig, settings, logger } = deps;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const responder = new ResponderService(core, discovery, settings, logger);
  return {
    ingress: new NginxChallengeRouter(
      networking,
      responder,
      settings,
      logger.child({ provider: 'ingress' }),
    ),
    gce: new GceChallengeRouter(
      networking,
      responder,
      new GceBackend(core, discovery, settings, logger.child({ provider: 'gce' })),
      { ...settings, watchNamespace: settings.watchNamespace ?? '' },
      logger.child({ provider: 'gce' }),
    ),
  };
}
