/**
 * Adapter: the status ConfigMap (format: shared/status-entries.ts), read at the start of a run
 * (it holds the failure back-off memory) and written once at its end.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { isConflict, isNotFound, toKubeApiError } from '../../shared/kube/api-error.js';
import { MANAGED_BY } from '../../shared/labels.js';
import {
  decodeStatus,
  encodeStatus,
  type CertificateStatus,
  type RunStatus,
} from '../../shared/status-entries.js';

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
    try {
      const configMap = await this.api.readNamespacedConfigMap({
        namespace: this.namespace,
        name: this.name,
      });
      return decodeStatus(configMap.data);
    } catch (error) {
      if (isNotFound(error)) return { certificates: [], run: undefined, malformed: [] };
      throw toKubeApiError(`get ConfigMap ${this.namespace}/${this.name}`, error);
    }
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
    try {
      await this.api.replaceNamespacedConfigMap({
        namespace: this.namespace,
        name: this.name,
        body,
      });
    } catch (error) {
      if (!isNotFound(error))
        throw toKubeApiError(`update ConfigMap ${this.namespace}/${this.name}`, error);
      try {
        await this.api.createNamespacedConfigMap({ namespace: this.namespace, body });
      } catch (createError) {
        if (isConflict(createError)) {
          await this.api.replaceNamespacedConfigMap({
            namespace: this.namespace,
            name: this.name,
            body,
          });
          return;
        }
        throw toKubeApiError(`create ConfigMap ${this.namespace}/${this.name}`, createError);
      }
    }
  }
}
