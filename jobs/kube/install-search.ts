/**
 * Adapter: where kube-lego is installed, for a command run from a workstation whose namespace
 * may not be the install's. An install is its status ConfigMap (written by every run, labelled
 * `app.kubernetes.io/managed-by=kube-lego`) or its Lease (taken by every run).
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { statusOf } from '../../shared/kube/api-error.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { CONFIGMAPS, LEASES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { MANAGED_BY } from '../../shared/labels.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';

/** Namespaces that hold an install, or why other namespaces could not be searched. */
export type InstallsElsewhere = { namespaces: string[] } | { forbidden: string };

export class InstallSearch {
  constructor(
    private readonly kube: KubeHttp,
    private readonly statusConfigMap: string,
    private readonly leaseName: string,
  ) {}

  /**
   * Whether `namespace` holds the status ConfigMap or the Lease.
   * @throws KubeApiError on anything but a 404 (a 403 included: the caller cannot tell).
   */
  async installedIn(namespace: string): Promise<boolean> {
    const status = await kubeCallUnlessNotFound(
      `get ConfigMap ${namespace}/${this.statusConfigMap}`,
      () => this.kube.get<unknown>(CONFIGMAPS, namespace, this.statusConfigMap),
    );
    if (status) return true;
    const lease = await kubeCallUnlessNotFound(`get Lease ${namespace}/${this.leaseName}`, () =>
      this.kube.get<unknown>(LEASES, namespace, this.leaseName),
    );
    return lease !== undefined;
  }

  /**
   * Namespaces with a status ConfigMap of this name and kube-lego's label, sorted. A 403 (the
   * caller may not list ConfigMaps across namespaces) is `{ forbidden }` with the server's
   * message, not an error.
   * @throws KubeApiError on any other failure.
   */
  async findElsewhere(): Promise<InstallsElsewhere> {
    const labelSelector = Object.entries(MANAGED_BY)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    try {
      // The field selector leaves at most one object a namespace: one page in practice.
      const found = await kubeCall('list ConfigMaps in all namespaces', () =>
        this.kube.list(
          CONFIGMAPS,
          undefined,
          { labelSelector, fieldSelector: `metadata.name=${this.statusConfigMap}` },
          (item: Wire<V1ConfigMap>) => item.metadata?.namespace,
        ),
      );
      const namespaces = found.filter((n): n is string => n !== undefined);
      return { namespaces: [...new Set(namespaces)].sort() };
    } catch (error) {
      if (statusOf(error) === 403)
        return { forbidden: error instanceof Error ? error.message : String(error) };
      throw error;
    }
  }
}
