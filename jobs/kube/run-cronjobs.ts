/**
 * Adapter: the CronJobs that run kube-lego's reconcile job in the install's namespace, so that
 * `retry` and `renew` print a one-liner naming the real CronJob (`kube-lego` with the kustomize
 * manifests, the release's full name with the Helm chart).
 */
import type { V1CronJob } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { CRONJOBS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { kubeCall } from './kube-call.js';

/**
 * Labels that both the kustomize manifests (manifests/cronjob.yaml) and the Helm chart
 * (templates/cronjob.yaml) put on the reconcile CronJob.
 */
export const RUN_CRONJOB_SELECTOR =
  'app.kubernetes.io/name=kube-lego,app.kubernetes.io/component=job';

/**
 * Names of the CronJobs in `namespace` carrying {@link RUN_CRONJOB_SELECTOR}, sorted.
 * @throws KubeApiError naming the call when they cannot be listed (a 403 included).
 */
export async function listRunCronJobs(kube: KubeHttp, namespace: string): Promise<string[]> {
  const names = await kubeCall(`list CronJobs in ${namespace}`, () =>
    kube.list(
      CRONJOBS,
      namespace,
      { labelSelector: RUN_CRONJOB_SELECTOR },
      (item: Wire<V1CronJob>) => item.metadata?.name,
    ),
  );
  return names.filter((name): name is string => name !== undefined).sort();
}
