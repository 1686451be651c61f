/**
 * Objects tests create again and again: a user's annotated Ingress, and the EndpointSlice the
 * endpointslice controller would publish for the responder Service (the test apiserver runs no
 * controller manager).
 */
import { DiscoveryV1Api, type V1Ingress } from '@kubernetes/client-node';
import { adminKubeConfig } from '../env/context.js';

/**
 * An Ingress with the given TLS entries and a `/` rule per host to a Service `web`; annotated
 * with `kubernetes.io/tls-acme: "true"` unless `annotated` is false; class `nginx` by default.
 */
export function annotatedIngress(
  name: string,
  tls: { hosts: string[]; secretName: string }[],
  options: { annotated?: boolean; className?: string; annotations?: Record<string, string> } = {},
): V1Ingress {
  const annotations: Record<string, string> = { ...(options.annotations ?? {}) };
  if (options.annotated !== false) annotations['kubernetes.io/tls-acme'] = 'true';
  return {
    metadata: { name, annotations },
    spec: {
      ingressClassName: options.className ?? 'nginx',
      tls,
      rules: tls.flatMap((t) =>
        t.hosts.map((host) => ({
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        })),
      ),
    },
  };
}

/**
 * Publishes responder addresses behind the Service `serviceName` (default `kube-lego-nginx`) in
 * `namespace`, as the endpointslice controller would. Addresses are documentation addresses
 * (192.0.2.0/24): the apiserver refuses loopback ones, and nothing dials them.
 */
export async function createResponderEndpoints(
  namespace: string,
  endpoints: { address: string; ready?: boolean }[],
  serviceName = 'kube-lego-nginx',
): Promise<void> {
  await adminKubeConfig()
    .makeApiClient(DiscoveryV1Api)
    .createNamespacedEndpointSlice({
      namespace,
      body: {
        metadata: {
          name: `${serviceName}-x7k2p`,
          labels: {
            'kubernetes.io/service-name': serviceName,
            'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          },
        },
        addressType: 'IPv4',
        endpoints: endpoints.map(({ address, ready }) => ({
          addresses: [address],
          ...(ready === undefined ? {} : { conditions: { ready } }),
        })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    });
}
