/**
 * The routers of one run, one per provider: the `Record<RoutingProvider, ChallengeRouter>` makes the
 * compiler list what a new provider must supply. Kept apart from the port (challenge-router.ts),
 * which the implementations import: the port imports none of them.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { RoutingProvider } from '../model.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeRouter, RoutingSettings } from './challenge-router.js';
import { GceBackend } from './gce-backend.js';
import { GceChallengeRouter } from './gce-router.js';
import { HttpRouteChallengeRouter } from './httproute-router.js';
import { NginxChallengeRouter } from './nginx-router.js';
import { ResponderService } from './responder-service.js';

/**
 * Makes one router per provider for one run. They share the responder Service (applied once,
 * deleted once per run) and must not be reused across runs. Makes no request.
 */
export function createChallengeRouters(deps: {
  kubeConfig: KubeConfig;
  settings: RoutingSettings;
  logger: Logger;
}): Record<RoutingProvider, ChallengeRouter> {
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
    gateway: new HttpRouteChallengeRouter(
      kubeConfig.makeApiClient(CustomObjectsApi),
      responder,
      settings,
      logger.child({ provider: 'gateway' }),
    ),
  };
}
