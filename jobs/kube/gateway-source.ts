/**
 * Adapter (gather): Gateways (Gateway API, gateway.networking.k8s.io/v1) as {@link GatewayView}s,
 * and whether the cluster serves that API at all. The Gateway API is a set of CRDs a cluster may
 * not have: discovery says so, and a cluster without them is read exactly as before.
 */
import type { V1APIGroupList } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { GATEWAYS } from '../../shared/kube/kube-resources.js';
import type { GatewayView } from '../model.js';
import { kubeCall } from './kube-call.js';

/**
 * The Gateway API's group and the version the job reads and writes; GATEWAYS and HTTPROUTES
 * (shared/kube/kube-resources.ts) name the same in their paths.
 */
export const GATEWAY_API = { group: 'gateway.networking.k8s.io', version: 'v1' } as const;

/**
 * Whether the API server serves gateway.networking.k8s.io/v1 (the Gateway API CRDs of the
 * standard channel, v1.0 or later, are installed): one discovery request.
 * @throws KubeApiError when the discovery request fails.
 */
export async function gatewayApiServed(kube: KubeHttp): Promise<boolean> {
  // The API server's discovery document of the named groups (Kubernetes API concepts,
  // "Discovery API"): an APIGroupList.
  const groups = await kubeCall('discover API groups', () =>
    kube.send<V1APIGroupList | undefined>({ method: 'GET', path: '/apis' }),
  );
  return (groups?.groups ?? []).some(
    (group) =>
      group.name === GATEWAY_API.group &&
      (group.versions ?? []).some((v) => v.version === GATEWAY_API.version),
  );
}

/**
 * Lists every Gateway the job may look at (all namespaces, or `watchNamespace` only); the
 * annotation is a decision, not a filter here.
 * @throws KubeApiError when a list call fails.
 */
export function listGateways(kube: KubeHttp, watchNamespace: string): Promise<GatewayView[]> {
  return kubeCall(`list Gateways${watchNamespace ? ` in ${watchNamespace}` : ''}`, () =>
    kube.list(GATEWAYS, watchNamespace, {}, toGatewayView),
  );
}

/**
 * Extracts what the job reads of a Gateway. The object is untyped (a custom resource: no model
 * type), so every field is checked; missing ones read as empty.
 */
export function toGatewayView(raw: unknown): GatewayView {
  const gateway = (raw ?? {}) as {
    metadata?: {
      namespace?: string;
      name?: string;
      uid?: string;
      resourceVersion?: string;
      annotations?: Record<string, string>;
    };
    spec?: { gatewayClassName?: unknown; listeners?: unknown };
  };
  const listeners = gateway.spec?.listeners;
  return {
    namespace: gateway.metadata?.namespace ?? '',
    name: gateway.metadata?.name ?? '',
    uid: gateway.metadata?.uid ?? '',
    resourceVersion: gateway.metadata?.resourceVersion ?? '',
    annotations: { ...(gateway.metadata?.annotations ?? {}) },
    gatewayClassName:
      typeof gateway.spec?.gatewayClassName === 'string' ? gateway.spec.gatewayClassName : '',
    listeners: Array.isArray(listeners) ? (listeners as GatewayView['listeners']) : [],
  };
}
