/**
 * Adapter: the challenge ConfigMap (format: shared/challenge-entries.ts). Entries are added and
 * removed with JSON merge patches (RFC 7386), which change only the keys named: concurrent
 * writers never overwrite each other's tokens and no read-modify-write cycle is needed.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { encodeChallenge, type ChallengeEntry } from '../../shared/challenge-entries.js';
import { isConflict } from '../../shared/kube/api-error.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { CONFIGMAPS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { MANAGED_BY } from '../../shared/labels.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';

export class ChallengeStore {
  constructor(
    private readonly kube: KubeHttp,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  /**
   * Publishes challenges for the responder; creates the ConfigMap when it does not exist.
   * @throws KubeApiError when the write fails.
   */
  async add(entries: readonly ChallengeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const data = Object.fromEntries(entries.map((e) => [e.token, encodeChallenge(e)]));
    const operation = `add challenges to ConfigMap ${this.where()}`;
    const patched = await kubeCallUnlessNotFound(operation, () => this.patch(data));
    if (patched !== undefined) return;
    try {
      await kubeCall(`create ConfigMap ${this.where()}`, () =>
        this.kube.create(CONFIGMAPS, this.namespace, {
          metadata: { name: this.name, namespace: this.namespace, labels: { ...MANAGED_BY } },
          data,
        } satisfies V1ConfigMap),
      );
    } catch (error) {
      // Another writer created it in between: patch into theirs.
      if (!isConflict(error)) throw error;
      await kubeCall(operation, () => this.patch(data));
    }
  }

  /**
   * Withdraws challenges. Absent tokens and an absent ConfigMap are fine.
   * @throws KubeApiError when the write fails.
   */
  async remove(tokens: readonly string[]): Promise<void> {
    if (tokens.length === 0) return;
    await kubeCallUnlessNotFound(`remove challenges from ConfigMap ${this.where()}`, () =>
      this.patch(Object.fromEntries(tokens.map((t) => [t, null]))),
    );
  }

  /**
   * Withdraws every challenge left in the ConfigMap (by a run that crashed mid-order). Only one
   * run works at a time (the Lease), so at the end of a run no token is still needed.
   * @throws KubeApiError when the read or the write fails.
   */
  async clear(): Promise<void> {
    const configMap = await kubeCallUnlessNotFound(`get ConfigMap ${this.where()}`, () =>
      this.kube.get<Wire<V1ConfigMap>>(CONFIGMAPS, this.namespace, this.name),
    );
    if (configMap === undefined) return;
    await this.remove(Object.keys(configMap.data ?? {}));
  }

  /** A JSON merge patch of `data`; resolves to `true` (never `undefined`) once written. */
  private async patch(data: Record<string, string | null>): Promise<true> {
    // A `null` value deletes its key (RFC 7386 section 2).
    await this.kube.patch(CONFIGMAPS, this.namespace, this.name, 'merge', { data });
    return true;
  }

  private where(): string {
    return `${this.namespace}/${this.name}`;
  }
}
