/**
 * Adapter: the job's way to the API server. In a pod, the mounted ServiceAccount; elsewhere the
 * current kubeconfig context (`KUBECONFIG` or ~/.kube/config), as kubectl does — read by this
 * project (shared/kube/kube-connection.ts) when it can, by `@kubernetes/client-node` when only
 * the library can (shared/kube/delegated-endpoint.ts).
 */
import { DelegatedKubeAuthError, loadKubeConnection } from './kube-connection.js';
import { endpointFromConnection, type KubeEndpoint } from './kube-endpoint.js';

let loaded: Promise<KubeEndpoint> | undefined;

/**
 * Finds the API server and its credentials, once per process (the namespace choice and the
 * command share it: an exec plugin runs once, one connection pool serves every request).
 * @throws NoKubeConfigError when there is neither a kubeconfig nor an in-cluster account.
 * @throws KubeLegoError when a kubeconfig exists but cannot be read or names no cluster.
 */
export function loadKubeEndpoint(): Promise<KubeEndpoint> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<KubeEndpoint> {
  try {
    return endpointFromConnection(await loadKubeConnection({ singleFile: true }));
  } catch (error) {
    if (!(error instanceof DelegatedKubeAuthError)) throw error;
    const { delegatedEndpoint } = await import('./delegated-endpoint.js');
    return delegatedEndpoint(error.message);
  }
}
