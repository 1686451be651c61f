/**
 * Labels of every object the challenge routers create. MANAGED_BY marks it as the job's (cleanup
 * only ever deletes what carries it); the provider label says which router made it, so each
 * router's cleanup deletes its own objects and nothing of the other's.
 */
import type { RoutingProvider } from '../model.js';
import { MANAGED_BY } from '../../shared/labels.js';

/**
 * Label naming the provider whose router created the object: `nginx` (the `ingress` provider,
 * under its earlier name, so that objects of earlier runs and versions stay ours), `gce` or
 * `gateway` (the challenge HTTPRoute).
 */
export const ROUTING_PROVIDER_LABEL = 'kube-lego.io/routing-provider';

const LABEL_VALUES: Record<RoutingProvider, string> = {
  ingress: 'nginx',
  gce: 'gce',
  gateway: 'gateway',
};

/** The labels a router puts on every object it creates. */
export function routingLabels(provider: RoutingProvider): Record<string, string> {
  return { ...MANAGED_BY, [ROUTING_PROVIDER_LABEL]: LABEL_VALUES[provider] };
}

/** A label selector matching exactly the objects {@link routingLabels} marks for `provider`. */
export function routingSelector(provider: RoutingProvider): string {
  return Object.entries(routingLabels(provider))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
