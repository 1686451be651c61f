/**
 * The gce backend: in the namespace of the user's Ingress, a NodePort Service with no selector
 * (LEGO_SERVICE_NAME_GCE) and EndpointSlices that list the responder's ready addresses.
 *
 * Why: an Ingress can only send traffic to a Service of its own namespace, and GCE's load
 * balancer needs a NodePort Service; the responder runs in LEGO_NAMESPACE. A Service without a
 * selector whose EndpointSlices we write ourselves reaches the responder pods from any
 * namespace. The slices carry `endpointslice.kubernetes.io/managed-by` with our value so the
 * endpointslice controllers leave them alone, and `kubernetes.io/service-name` so kube-proxy
 * serves them for the Service.
 */
import type {
  CoreV1Api,
  DiscoveryV1Api,
  V1EndpointSlice,
  V1Service,
} from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.js';
import { kubeCall } from './kube-call.js';
import { HTTP_PORT_NAME, SERVICE_NAME_LABEL, type ReadyAddresses } from './responder-service.js';
import { routingLabels, routingSelector } from './routing-labels.js';
import { APPLY_PARAMETERS, applyOptions } from './server-side-apply.js';

/** Label that tells the endpointslice controllers who manages a slice (theirs: not ours). */
export const ENDPOINTSLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** Our value of {@link ENDPOINTSLICE_MANAGED_BY_LABEL}. */
export const ENDPOINTSLICE_MANAGER = 'kube-lego';

/** What the gce backend needs to know. */
export interface GceBackendSettings {
  port: number;
  serviceNameGce: string;
}

/** Builds the selectorless NodePort Service in `namespace`, as it is applied. */
export function buildGceService(settings: GceBackendSettings, namespace: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: settings.serviceNameGce, namespace, labels: routingLabels('gce') },
    spec: {
      type: 'NodePort',
      ports: [
        { name: HTTP_PORT_NAME, port: settings.port, targetPort: settings.port, protocol: 'TCP' },
      ],
    },
  };
}

/**
 * Builds the EndpointSlice of one address family, named `<service>-<ipv4|ipv6>`, listing
 * `ready.addresses` as ready endpoints on LEGO_PORT.
 */
export function buildGceEndpointSlice(
  settings: GceBackendSettings,
  namespace: string,
  ready: ReadyAddresses,
): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${settings.serviceNameGce}-${ready.addressType.toLowerCase()}`,
      namespace,
      labels: {
        ...routingLabels('gce'),
        [SERVICE_NAME_LABEL]: settings.serviceNameGce,
        [ENDPOINTSLICE_MANAGED_BY_LABEL]: ENDPOINTSLICE_MANAGER,
      },
    },
    addressType: ready.addressType,
    endpoints: ready.addresses.map((address) => ({
      addresses: [address],
      conditions: { ready: true },
    })),
    ports: [{ name: HTTP_PORT_NAME, port: settings.port, protocol: 'TCP' }],
  };
}

/** A gce Service of ours found in the cluster (see {@link GceBackend.list}). */
export interface GceBackendRef {
  namespace: string;
  serviceName: string;
}

/** Writes, finds and deletes gce backends. */
export class GceBackend {
  constructor(
    private readonly core: CoreV1Api,
    private readonly discovery: DiscoveryV1Api,
    private readonly settings: GceBackendSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * Applies the Service, then one EndpointSlice per address family of `ready` (1 + families
   * requests). Unchanged applies leave the objects as they were.
   * @throws KubeApiError naming the object that could not be applied.
   */
  async ensure(namespace: string, ready: readonly ReadyAddresses[]): Promise<void> {
    const name = this.settings.serviceNameGce;
    await kubeCall(`apply Service ${namespace}/${name}`, () =>
      this.core.patchNamespacedService(
        { name, namespace, body: buildGceService(this.settings, namespace), ...APPLY_PARAMETERS },
        applyOptions(),
      ),
    );
    for (const family of ready) {
      const body = buildGceEndpointSlice(this.settings, namespace, family);
      const sliceName = body.metadata?.name ?? name;
      await kubeCall(`apply EndpointSlice ${namespace}/${sliceName}`, () =>
        this.discovery.patchNamespacedEndpointSlice(
          { name: sliceName, namespace, body, ...APPLY_PARAMETERS },
          applyOptions(),
        ),
      );
    }
    this.logger.debug('gce backend applied', {
      namespace,
      service: name,
      addresses: ready.flatMap((family) => family.addresses),
    });
  }

  /**
   * Deletes every EndpointSlice, then every Service, labelled as gce routing's in `namespace`
   * (two requests; nothing to delete is fine). Slices go first: a Service of ours left alone
   * still marks the namespace for cleanup().
   * @throws KubeApiError when a delete fails.
   */
  async remove(namespace: string): Promise<void> {
    await kubeCall(`delete labelled EndpointSlices in ${namespace}`, () =>
      this.discovery.deleteCollectionNamespacedEndpointSlice({
        namespace,
        labelSelector: routingSelector('gce'),
      }),
    );
    await kubeCall(`delete labelled Services in ${namespace}`, () =>
      this.core.deleteCollectionNamespacedService({
        namespace,
        labelSelector: routingSelector('gce'),
      }),
    );
    this.logger.debug('gce backend deleted', { namespace });
  }

  /**
   * Every gce Service of ours: in `namespace`, or in all namespaces when it is empty (one list
   * request). @throws KubeApiError when the list fails.
   */
  async list(namespace: string): Promise<GceBackendRef[]> {
    const labelSelector = routingSelector('gce');
    const services = await kubeCall(
      `list labelled Services in ${namespace || 'all namespaces'}`,
      () =>
        namespace
          ? this.core.listNamespacedService({ namespace, labelSelector })
          : this.core.listServiceForAllNamespaces({ labelSelector }),
    );
    return services.items.flatMap((service) =>
      service.metadata?.namespace && service.metadata.name
        ? [{ namespace: service.metadata.namespace, serviceName: service.metadata.name }]
        : [],
    );
  }
}
