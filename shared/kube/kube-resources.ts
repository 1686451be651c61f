/**
 * The Kubernetes resources the job reads and writes, as REST paths (Kubernetes API concepts:
 * "Resource URIs"): `/api/v1` for the core group, `/apis/<group>/<version>` for the others;
 * `namespaces/<ns>/` before the plural for namespaced objects.
 */

/** One kind of object: its API group path and its plural resource name. */
export interface ResourceType {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  readonly api: string;
  /** The plural resource name, e.g. `secrets`. */
  readonly plural: string;
}

export const SECRETS: ResourceType = { api: '/api/v1', plural: 'secrets' };
export const CONFIGMAPS: ResourceType = { api: '/api/v1', plural: 'configmaps' };
export const SERVICES: ResourceType = { api: '/api/v1', plural: 'services' };
export const EVENTS: ResourceType = { api: '/api/v1', plural: 'events' };
export const INGRESSES: ResourceType = { api: '/apis/networking.k8s.io/v1', plural: 'ingresses' };
export const LEASES: ResourceType = { api: '/apis/coordination.k8s.io/v1', plural: 'leases' };
export const CRONJOBS: ResourceType = { api: '/apis/batch/v1', plural: 'cronjobs' };
export const ENDPOINTSLICES: ResourceType = {
  api: '/apis/discovery.k8s.io/v1',
  plural: 'endpointslices',
};
/** Gateway API (gateway.networking.k8s.io/v1). */
export const GATEWAYS: ResourceType = {
  api: '/apis/gateway.networking.k8s.io/v1',
  plural: 'gateways',
};
export const HTTPROUTES: ResourceType = {
  api: '/apis/gateway.networking.k8s.io/v1',
  plural: 'httproutes',
};

/**
 * The path of a collection (`name` undefined) or of one object. `namespace` undefined or empty:
 * the collection across all namespaces.
 */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const where = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  return `${type.api}${where}/${type.plural}${object}`;
}
