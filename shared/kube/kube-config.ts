/**
 * Adapter: where the Kubernetes API is. In a pod, the mounted ServiceAccount; elsewhere the
 * current kubeconfig context (`KUBECONFIG` or ~/.kube/config), as kubectl does. Every
 * configuration loaded here sends its requests through one keep-alive agent
 * (shared/kube/shared-agent.ts).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeLegoError } from '../errors.js';
import { shareOneAgent } from './shared-agent.js';

/**
 * No kubeconfig, no in-cluster ServiceAccount: client-node then silently falls back to
 * `http://localhost:8080` and the first request fails with "HTTP protocol is not allowed when
 * skipTLSVerify is not set", which says nothing about the cause.
 */
export class NoKubeConfigError extends KubeLegoError {
  constructor() {
    super(
      'no Kubernetes configuration: KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod with a ServiceAccount. Point KUBECONFIG at a kubeconfig file (or run inside the cluster)',
    );
  }
}

/**
 * Loads the cluster configuration.
 * @throws NoKubeConfigError when there is neither a kubeconfig nor an in-cluster account.
 * @throws KubeLegoError when a kubeconfig exists but cannot be read or names no cluster.
 */
export function loadKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  try {
    config.loadFromDefault();
  } catch (error) {
    throw new KubeLegoError('cannot load a Kubernetes configuration (in-cluster or KUBECONFIG)', {
      cause: error,
    });
  }
  const cluster = config.getCurrentCluster();
  // client-node 1.4's last resort in loadFromDefault(): one cluster `cluster` at
  // http://localhost:8080 in a context `loaded-context`. Nothing the user configured.
  if (
    config.getCurrentContext() === 'loaded-context' &&
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080'
  ) {
    throw new NoKubeConfigError();
  }
  if (!cluster) {
    throw new KubeLegoError(
      'no Kubernetes cluster configured: the kubeconfig has no current context with a cluster; set one (kubectl config use-context)',
    );
  }
  shareOneAgent(config);
  return config;
}

/**
 * The current context's namespace: the kubeconfig's `namespace:` for that context, or in a pod
 * the ServiceAccount's namespace file (client-node reads it into its in-cluster context).
 * `undefined` when the context names none.
 */
export function contextNamespace(config: KubeConfig): string | undefined {
  const context = config.getContextObject(config.getCurrentContext());
  const namespace = context?.namespace?.trim();
  return namespace ? namespace : undefined;
}
