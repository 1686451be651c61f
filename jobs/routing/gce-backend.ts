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
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { ENDPOINTSLICES, SERVICES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import type { Logger } from '../../shared/logger.js';
import { kubeCall } from '../kube/kube-call.js';
import { ENDPOINTSLICE_KIND, OwnedObjects, SERVICE_KIND } from './owned-objects.js';
import { HTTP_PORT_NAME, SERVICE_NAME_LABEL, type ReadyAddresses } from './responder-service.js';
import { routingLabels, routingSelector } from './routing-labels.js';
import { serverSideApply } from '../kube/server-side-apply.js';

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
      name: gceEndpointSliceName(settings, ready.addressType),
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

/** The name of the gce EndpointSlice of one address family: `<service>-<ipv4|ipv6>`. */
export function gceEndpointSliceName(
  settings: GceBackendSettings,
  addressType: ReadyAddresses['addressType'],
): string {
  return `${settings.serviceNameGce}-${addressType.toLowerCase()}`;
}

/** Address families of the gce EndpointSlices, in the order they are deleted. */
const ADDRESS_TYPES: readonly ReadyAddresses['addressType'][] = ['IPv4', 'IPv6'];

/** A gce Service of ours found in the cluster (see {@link GceBackend.list}). */
export interface GceBackendRef {
  namespace: string;
  serviceName: string;
}

/** Writes, finds and deletes gce backends. */
export class GceBackend {
  private readonly services: OwnedObjects;
  private readonly slices: OwnedObjects;

  constructor(
    private readonly kube: KubeHttp,
    private readonly settings: GceBackendSettings,
    private readonly logger: Logger,
  ) {
    this.services = new OwnedObjects(kube, SERVICE_KIND, routingLabels('gce'));
    this.slices = new OwnedObjects(kube, ENDPOINTSLICE_KIND, routingLabels('gce'));
  }

  /**
   * Applies the Service, then one EndpointSlice per address family of `ready` (1 + families
   * requests). Unchanged applies leave the objects as they were.
   * @throws KubeApiError naming the object that could not be applied.
   */
  async ensure(namespace: string, ready: readonly ReadyAddresses[]): Promise<void> {
    const name = this.settings.serviceNameGce;
    const service = await serverSideApply<Wire<V1Service>>(
      this.kube,
      `apply Service ${namespace}/${name}`,
      { type: SERVICES, namespace, name, body: buildGceService(this.settings, namespace) },
    );
    this.services.record(service, 'written');
    for (const family of ready) {
      const sliceName = gceEndpointSliceName(this.settings, family.addressType);
      const slice = await serverSideApply<Wire<V1EndpointSlice>>(
        this.kube,
        `apply EndpointSlice ${namespace}/${sliceName}`,
        {
          type: ENDPOINTSLICES,
          namespace,
          name: sliceName,
          body: buildGceEndpointSlice(this.settings, namespace, family),
        },
      );
      this.slices.record(slice, 'written');
    }
    this.logger.debug('gce backend applied', {
      namespace,
      service: name,
      addresses: ready.flatMap((family) => family.addresses),
    });
  }

  /**
   * Deletes, by name and each only if it carries gce routing's labels, the EndpointSlices
   * `<service>-ipv4` and `<service>-ipv6`, then the Service LEGO_SERVICE_NAME_GCE, in
   * `namespace`. One DELETE for each object this run wrote or listed, a GET first for the others
   * (a 404 ends it), nothing for what this run already deleted or found absent. Slices go first:
   * a Service of ours left alone still marks the namespace for cleanup().
   * @throws KubeApiError when a read or a delete fails (the Service is then kept).
   */
  async remove(namespace: string): Promise<void> {
    const outcomes: Record<string, string> = {};
    for (const addressType of ADDRESS_TYPES) {
      const name = gceEndpointSliceName(this.settings, addressType);
      outcomes[name] = await this.slices.delete({ namespace, name });
    }
    const name = this.settings.serviceNameGce;
    outcomes[name] = await this.services.delete({ namespace, name });
    this.logger.debug('gce backend removed', { namespace, outcomes });
  }

  /**
   * Every gce Service of ours (labelled as gce routing's, whatever its name): in `namespace`, or
   * in all namespaces when it is empty (one list request). The copies are remembered, so that
   * remove() deletes them without reading them again. @throws KubeApiError when the list fails.
   */
  async list(namespace: string): Promise<GceBackendRef[]> {
    const labelSelector = routingSelector('gce');
    // An empty namespace lists across all namespaces (resourcePath).
    const refs = await kubeCall(`list labelled Services in ${namespace || 'all namespaces'}`, () =>
      this.kube.list(SERVICES, namespace, { labelSelector }, (service: Wire<V1Service>) => {
        this.services.record(service, 'read');
        const { namespace: found, name } = service.metadata ?? {};
        return found && name ? { namespace: found, serviceName: name } : undefined;
      }),
    );
    return refs.filter((ref) => ref !== undefined);
  }
}
