/**
 * The routers of one run, one per provider: the `Record<Provider, ChallengeRouter>` makes the
 * compiler list what a new provider must supply. Kept apart from the port (challenge-router.ts),
 * which the implementations import: the port imports none of them.
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Provider } from '../model.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeRouter, RoutingSettings } from './challenge-router.js';
import { GceBackend } from './gce-backend.js';
import { GceChallengeRouter } from './gce-router.js';
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
}): Record<Provider, ChallengeRouter> {
  const { kubeConfig, settings, logger } = deps;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const responder = new ResponderService(core, discovery, settings, logger);
  return {
    nginx: new NginxChallengeRouter(
      networking,
      responder,
      settings,
      logger.child({ provider: 'nginx' }),
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
