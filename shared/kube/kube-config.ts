/**
 * Adapter: where the Kubernetes API is. In a pod, the mounted ServiceAccount; elsewhere the
 * current kubeconfig context (`KUBECONFIG` or ~/.kube/config), as kubectl does.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeLegoError } from '../errors.js';

/**
 * Loads the cluster configuration.
 * @throws KubeLegoError when neither an in-cluster account nor a kubeconfig context exists.
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
  if (!config.getCurrentCluster()) {
    throw new KubeLegoError(
      'no Kubernetes cluster configured: run in a pod with a ServiceAccount, or set KUBECONFIG / a current context',
    );
  }
  return config;
}
