/**
 * Adapter: the status ConfigMap (format: shared/status-entries.ts), read at the start of a run
 * (it holds the failure back-off memory) and written once at its end.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../../shared/kube/api-error.js';
import { MANAGED_BY } from '../../shared/labels.js';
import {
  decodeStatus,
  encodeStatus,
  type CertificateStatus,
  type RunStatus,
} from '../../shared/status-entries.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';

export interface StatusSnapshot {
  certificates: CertificateStatus[];
  run: RunStatus | undefined;
  /** Keys that could not be read (skipped, reported). */
  malformed: string[];
}

export class StatusStore {
  constructor(
    private readonly api: CoreV1Api,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  /**
   * The last written status; empty when the ConfigMap does not exist yet.
   * @throws KubeApiError on any other failure.
   */
  async read(): Promise<StatusSnapshot> {
    const configMap = await kubeCallUnlessNotFound(
      `get ConfigMap ${this.namespace}/${this.name}`,
      () => this.api.readNamespacedConfigMap({ namespace: this.namespace, name: this.name }),
    );
    if (configMap === undefined) return { certificates: [], run: undefined, malformed: [] };
    return decodeStatus(configMap.data);
  }

  /**
   * Replaces the status with this run's. Last writer wins: only one run works at a time (Lease).
   * @throws KubeApiError when the write fails.
   */
  async write(certificates: readonly CertificateStatus[], run: RunStatus): Promise<void> {
    const body = {
      metadata: { name: this.name, namespace: this.namespace, labels: { ...MANAGED_BY } },
      data: encodeStatus(certificates, run),
    };
    const where = `${this.namespace}/${this.name}`;
    const replace = () =>
      kubeCall(`update ConfigMap ${where}`, () =>
        this.api.replaceNamespacedConfigMap({ namespace: this.namespace, name: this.name, body }),
      );
    try {
      await replace();
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await kubeCall(`create ConfigMap ${where}`, () =>
          this.api.createNamespacedConfigMap({ namespace: this.namespace, body }),
        );
      } catch (createError) {
        // Created in between (by an earlier, slower run): replace it after all.
        if (!isConflict(createError)) throw createError;
        await replace();
      }
    }
  }
}
