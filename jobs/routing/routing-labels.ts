/**
 * Labels of every object the challenge routers create. MANAGED_BY marks it as the job's (cleanup
 * only ever deletes what carries it); the provider label says which router made it, so each
 * router's cleanup deletes its own objects and nothing of the other's.
 */
import type { Provider } from '../model.js';
import { MANAGED_BY } from '../../shared/labels.js';

/** Label naming the provider whose router created the object: `nginx` or `gce`. */
export const ROUTING_PROVIDER_LABEL = 'kube-lego.io/routing-provider';

/** The labels a router puts on every object it creates. */
export function routingLabels(provider: Provider): Record<string, string> {
  return { ...MANAGED_BY, [ROUTING_PROVIDER_LABEL]: provider };
}

/** A label selector matching exactly the objects {@link routingLabels} marks for `provider`. */
export function routingSelector(provider: Provider): string {
  return Object.entries(routingLabels(provider))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
