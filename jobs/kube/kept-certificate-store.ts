/**
 * Adapter: the kept-certificates Secret (format: shared/kept-certificates.ts) in LEGO_NAMESPACE.
 * Read once per run; written only when a certificate could not be stored, or once a kept one
 * was installed. The Secret is never deleted (an empty one costs nothing, and the job's RBAC
 * grants no delete on Secrets).
 */
import type { V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound, toKubeApiError } from '../../shared/kube/api-error.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { SECRETS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import {
  decodeKept,
  encodeKept,
  KEPT_SECRET_NAME,
  keptKey,
  type KeptCertificate,
} from '../../shared/kept-certificates.js';
import { MANAGED_BY } from '../../shared/labels.js';

export class KeptCertificateStore {
  constructor(
    private readonly kube: KubeHttp,
    private readonly namespace: string,
  ) {}

  /**
   * Every kept certificate; empty when the Secret does not exist.
   * @throws KubeApiError on any other failure.
   */
  async list(): Promise<{ entries: KeptCertificate[]; malformed: string[] }> {
    const secret = await this.read();
    return decodeKept(secret?.data);
  }

  /**
   * Adds (or replaces) a kept certificate.
   * @throws KubeApiError when it cannot be written.
   */
  async keep(kept: KeptCertificate): Promise<void> {
    const { key, value } = encodeKept(kept);
    await this.edit((data) => ({ ...data, [key]: value }));
  }

  /**
   * Removes the kept certificate of a Secret, if there is one.
   * @throws KubeApiError when the Secret cannot be written.
   */
  async remove(namespace: string, secretName: string): Promise<void> {
    const key = keptKey(namespace, secretName);
    await this.edit((data) => {
      if (!(key in data)) return undefined;
      const { [key]: _removed, ...rest } = data;
      return rest;
    });
  }

  private async read(): Promise<Wire<V1Secret> | undefined> {
    try {
      return await this.kube.get<Wire<V1Secret>>(SECRETS, this.namespace, KEPT_SECRET_NAME);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toKubeApiError(`get Secret ${this.namespace}/${KEPT_SECRET_NAME}`, error);
    }
  }

  /** Read, edit, write with the read resourceVersion; again on a conflict. */
  private async edit(
    change: (data: Record<string, string>) => Record<string, string> | undefined,
  ): Promise<void> {
    const operation = `update Secret ${this.namespace}/${KEPT_SECRET_NAME}`;
    for (let attempt = 1; ; attempt++) {
      const existing = await this.read();
      const data = change({ ...(existing?.data ?? {}) });
      if (data === undefined) return;
      try {
        if (existing) {
          existing.data = data;
          await this.kube.replace(SECRETS, this.namespace, KEPT_SECRET_NAME, existing);
        } else {
          await this.kube.create(SECRETS, this.namespace, {
            metadata: {
              name: KEPT_SECRET_NAME,
              namespace: this.namespace,
              labels: { ...MANAGED_BY },
            },
            type: 'Opaque',
            data,
          } satisfies V1Secret);
        }
        return;
      } catch (error) {
        if (isConflict(error) && attempt < 3) continue;
        throw toKubeApiError(operation, error);
      }
    }
  }
}
