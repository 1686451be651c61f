/**
 * The responder's Service: LEGO_SERVICE_NAME_NGINX in LEGO_NAMESPACE, a ClusterIP Service that
 * selects the responder pods (`app: <LEGO_SERVICE_SELECTOR>`). The nginx challenge Ingress routes
 * to it; the gce router reads its EndpointSlices to learn the responder's ready addresses (the
 * endpointslice controller fills them because the Service has a selector).
 *
 * It lives only while a run routes challenges: ensured on the first open() of a run, deleted by
 * cleanup(). Both routers share one instance so that it is applied once per run and deleted once.
 */
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { ENDPOINTSLICES, SERVICES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import type { Logger } from '../../shared/logger.js';
import { kubeCall } from '../kube/kube-call.js';
import { OwnedObjects, SERVICE_KIND } from './owned-objects.js';
import { routingLabels } from './routing-labels.js';
import { serverSideApply } from '../kube/server-side-apply.js';

/** Label the endpointslice controller puts on the slices of a Service (and kube-proxy reads). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Name of the Service port, in the Service and in mirrored EndpointSlices. */
export const HTTP_PORT_NAME = 'http';

/** Ready addresses of one address family, sorted and without duplicates. */
export interface ReadyAddresses {
  addressType: 'IPv4' | 'IPv6';
  addresses: string[];
}

/** What the responder Service needs to know. */
export interface ResponderServiceSettings {
  namespace: string;
  port: number;
  serviceSelector: string;
  serviceNameNginx: string;
}

/** Builds the responder Service as it is applied. */
export function buildResponderService(settings: ResponderServiceSettings): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: settings.serviceNameNginx,
      namespace: settings.namespace,
      // Labelled as nginx's: it is LEGO_SERVICE_NAME_NGINX, and nginx's cleanup deletes it.
      labels: routingLabels('ingress'),
    },
    spec: {
      type: 'ClusterIP',
      selector: { app: settings.serviceSelector },
      ports: [
        { name: HTTP_PORT_NAME, port: settings.port, targetPort: settings.port, protocol: 'TCP' },
      ],
    },
  };
}

/**
 * The ready addresses in a Service's EndpointSlices, per address family. An endpoint whose
 * `conditions.ready` is unset counts as ready, as the EndpointSlice API says consumers should
 * read it; FQDN slices are ignored (kube-proxy does not route to them).
 */
export function readyAddressesOf(
  slices: readonly Pick<V1EndpointSlice, 'addressType' | 'endpoints'>[],
): ReadyAddresses[] {
  const byType = new Map<ReadyAddresses['addressType'], Set<string>>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const addresses = byType.get(slice.addressType) ?? new Set<string>();
    byType.set(slice.addressType, addresses);
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses) addresses.add(address);
    }
  }
  return [...byType]
    .filter(([, addresses]) => addresses.size > 0)
    .map(([addressType, addresses]) => ({ addressType, addresses: [...addresses].sort() }))
    .sort((a, b) => a.addressType.localeCompare(b.addressType));
}

/** The responder Service of one run; see the module comment for its lifetime. */
export class ResponderService {
  private ensured = false;
  private readonly services: OwnedObjects;

  constructor(
    private readonly kube: KubeHttp,
    private readonly settings: ResponderServiceSettings,
    private readonly logger: Logger,
  ) {
    this.services = new OwnedObjects(kube, SERVICE_KIND, routingLabels('ingress'));
  }

  /** `namespace/name` of the Service, for messages. */
  get reference(): string {
    return `${this.settings.namespace}/${this.settings.serviceNameNginx}`;
  }

  /**
   * Creates or updates the Service. Applied once per instance (one run): later calls cost no
   * request. @throws KubeApiError when the apply fails.
   */
  async ensure(): Promise<void> {
    if (this.ensured) return;
    const applied = await serverSideApply<Wire<V1Service>>(
      this.kube,
      `apply Service ${this.reference}`,
      {
        type: SERVICES,
        namespace: this.settings.namespace,
        name: this.settings.serviceNameNginx,
        body: buildResponderService(this.settings),
      },
    );
    this.services.record(applied, 'written');
    this.ensured = true;
    this.logger.debug('responder service applied', { service: this.reference });
  }

  /**
   * The responder's ready addresses, from the Service's EndpointSlices (one list request).
   * Empty when no responder pod is ready. @throws KubeApiError when the list fails.
   */
  async listReadyAddresses(): Promise<ReadyAddresses[]> {
    const slices = await kubeCall(`list EndpointSlices of Service ${this.reference}`, () =>
      this.kube.list(
        ENDPOINTSLICES,
        this.settings.namespace,
        { labelSelector: `${SERVICE_NAME_LABEL}=${this.settings.serviceNameNginx}` },
        (slice: Wire<V1EndpointSlice>) => ({
          addressType: slice.addressType,
          endpoints: slice.endpoints,
        }),
      ),
    );
    return readyAddressesOf(slices);
  }

  /**
   * Deletes the Service LEGO_SERVICE_NAME_NGINX if it carries nginx routing's labels (an
   * unlabelled Service of that name, e.g. kube-lego's, is left alone). One DELETE when this run
   * applied it; a GET first when it did not; nothing once this run has deleted it or found it
   * absent, unless ensure() ran again. @throws KubeApiError when the read or the delete fails.
   */
  async remove(): Promise<void> {
    const outcome = await this.services.delete({
      namespace: this.settings.namespace,
      name: this.settings.serviceNameNginx,
    });
    this.ensured = false;
    this.logger.debug('responder service removed', { service: this.reference, outcome });
  }
}
