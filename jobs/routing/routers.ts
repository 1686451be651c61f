/**
 * The routers of one run, one per provider: the `Record<RoutingProvider, ChallengeRouter>` makes the
 * compiler list what a new provider must supply. Kept apart from the port (challenge-router.ts),
 * which the implementations import: the port imports none of them.
 */
import type { RoutingProvider } from '../model.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeRouter, RoutingSettings } from './challenge-router.js';
import { GceBackend } from './gce-backend.js';
import { GceChallengeRouter } from './gce-router.js';
import { HttpRouteChallengeRouter } from './httproute-router.js';
import { NginxChallengeRouter } from './nginx-router.js';
import { ResponderService } from './responder-service.js';

/**
 * Makes one router per provider for one run. They share the responder Service (applied once,
 * deleted once per run) and must not be reused across runs. Makes no request; every request
 * they make goes through `kube`.
 */
export function createChallengeRouters(deps: {
  kube: KubeHttp;
  settings: RoutingSettings;
  logger: Logger;
}): Record<RoutingProvider, ChallengeRouter> {
  const { kube, settings, logger } = deps;
  const responder = new ResponderService(kube, settings, logger);
  return {
    ingress: new NginxChallengeRouter(
      kube,
      responder,
      settings,
      logger.child({ provider: 'ingress' }),
    ),
    gce: new GceChallengeRouter(
      kube,
      responder,
      new GceBackend(kube, settings, logger.child({ provider: 'gce' })),
      { ...settings, watchNamespace: settings.watchNamespace ?? '' },
      logger.child({ provider: 'gce' }),
    ),
    gateway: new HttpRouteChallengeRouter(
      kube,
      responder,
      settings,
      logger.child({ provider: 'gateway' }),
    ),
  };
}
