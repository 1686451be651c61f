/**
 * Adapter (gather): Gateways (Gateway API, gateway.networking.k8s.io/v1) as {@link GatewayView}s,
 * and whether the cluster serves that API at all. The Gateway API is a set of CRDs a cluster may
 * not have: discovery says so, and a cluster without them is read exactly as before.
 */
import type { ApisApi, CustomObjectsApi } from '@kubernetes/client-node';
import type { GatewayView } from '../model.js';
import { kubeCall } from './kube-call.js';
import { listAll, PAGE_SIZE } from './list-all.js';

/** The Gateway API's group and the version the job reads and writes. */
export const GATEWAY_API = { group: 'gateway.networking.k8s.io', version: 'v1' } as const;

/**
 * Whether the API server serves gateway.networking.k8s.io/v1 (the Gateway API CRDs of the
 * standard channel, v1.0 or later, are installed): one discovery request.
 * @throws KubeApiError when the discovery request fails.
 */
export async function gatewayApiServed(api: ApisApi): Promise<boolean> {
  const groups = await kubeCall('discover API groups', () => api.getAPIVersions());
  return groups.groups.some(
    (group) =>
      group.name === GATEWAY_API.group &&
      group.versions.some((v) => v.version === GATEWAY_API.version),
  );
}

/**
 * Lists every Gateway the job may look at (all namespaces, or `watchNamespace` only); the
 * annotation is a decision, not a filter here.
 * @throws KubeApiError when a list call fails.
 */
export function listGateways(
  api: CustomObjectsApi,
  watchNamespace: string,
): Promise<GatewayView[]> {
  const base = { ...GATEWAY_API, plural: 'gateways', limit: PAGE_SIZE };
  return kubeCall(`list Gateways${watchNamespace ? ` in ${watchNamespace}` : ''}`, () =>
    listAll(
      async (cont) =>
        (watchNamespace
          ? await api.listNamespacedCustomObject({
              ...base,
              namespace: watchNamespace,
              _continue: cont,
            })
          : await api.listClusterCustomObject({ ...base, _continue: cont })) as {
          items: unknown[];
          metadata?: { _continue?: string };
        },
      toGatewayView,
    ),
  );
}

/** Extracts what the job reads of a Gateway (an untyped object from the custom objects API). */
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
