/**
 * Adapter: the coordination.k8s.io Lease that keeps two runs (a scheduled one and one an operator
 * started with `kubectl create job --from=cronjob/...`) from working at once. A run takes the
 * Lease, renews it while it works, and releases it at the end; a Lease whose holder stopped
 * renewing (the pod died) is taken over once `leaseDurationSeconds` have passed.
 * Writes carry the resourceVersion read, so of two runs racing for it exactly one wins (409).
 */
import type { V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../../shared/kube/api-error.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { LEASES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { MANAGED_BY } from '../../shared/labels.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';

export type LeaseOutcome =
  | { acquired: true; tookOverFrom: string | undefined }
  | { acquired: false; holder: string; expiresAt: Date };

export class RunLease {
  constructor(
    private readonly kube: KubeHttp,
    private readonly namespace: string,
    private readonly name: string,
    readonly identity: string,
    private readonly durationMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Tries once to take the Lease.
   * @throws KubeApiError when the API fails for another reason than losing the race.
   */
  async acquire(): Promise<LeaseOutcome> {
    const where = `Lease ${this.namespace}/${this.name}`;
    const lease = await kubeCallUnlessNotFound(`get ${where}`, () => this.read());
    const now = this.now();
    if (!lease) {
      try {
        await kubeCall(`create ${where}`, () =>
          this.kube.create(LEASES, this.namespace, {
            metadata: { name: this.name, namespace: this.namespace, labels: { ...MANAGED_BY } },
            spec: this.spec(now, 0, now),
          } satisfies Wire<V1Lease>),
        );
        return { acquired: true, tookOverFrom: undefined };
      } catch (error) {
        // Another run created it first: it won the race.
        if (isConflict(error)) return this.lostTo(where);
        throw error;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const expiresAt = expiry(lease);
    if (holder !== '' && holder !== this.identity && expiresAt.getTime() > now.getTime()) {
      return { acquired: false, holder, expiresAt };
    }
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (holder !== this.identity ? 1 : 0);
    try {
      await kubeCall(`take over ${where}`, () =>
        this.kube.replace(LEASES, this.namespace, this.name, {
          ...lease,
          spec: this.spec(now, transitions, now),
        }),
      );
      return {
        acquired: true,
        tookOverFrom: holder !== '' && holder !== this.identity ? holder : undefined,
      };
    } catch (error) {
      if (isConflict(error)) return this.lostTo(where);
      throw error;
    }
  }

  /**
   * Extends the Lease. Returns false when another run holds it now (ours had expired).
   * @throws KubeApiError on API failures.
   */
  async renew(): Promise<boolean> {
    const where = `Lease ${this.namespace}/${this.name}`;
    try {
      return await kubeCall(`renew ${where}`, async () => {
        const lease = await this.read();
        if (lease.spec?.holderIdentity !== this.identity) return false;
        lease.spec.renewTime = microTime(this.now());
        await this.kube.replace(LEASES, this.namespace, this.name, lease);
        return true;
      });
    } catch (error) {
      // Deleted or written by another run meanwhile: ours is gone.
      if (isConflict(error) || isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Gives the Lease up so the next run need not wait for it to expire. Never throws: a Lease
   * that is not released simply expires.
   */
  async release(): Promise<void> {
    try {
      const lease = await this.read();
      if (lease.spec?.holderIdentity !== this.identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.renewTime = microTime(this.now());
      await this.kube.replace(LEASES, this.namespace, this.name, lease);
    } catch {
      // Expires on its own.
    }
  }

  private spec(now: Date, transitions: number, acquired: Date): Wire<V1Lease>['spec'] {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      acquireTime: microTime(acquired),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
  }

  private async lostTo(where: string): Promise<LeaseOutcome> {
    const lease = await kubeCall(`get ${where}`, () => this.read());
    return {
      acquired: false,
      holder: lease.spec?.holderIdentity ?? 'unknown',
      expiresAt: expiry(lease),
    };
  }

  /** The Lease; its `metadata.resourceVersion` makes a replace of what was read conditional. */
  private read(): Promise<Wire<V1Lease>> {
    return this.kube.get<Wire<V1Lease>>(LEASES, this.namespace, this.name);
  }
}

function expiry(lease: Wire<V1Lease>): Date {
  const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  const renewedMs = renewed ? new Date(renewed).getTime() : 0;
  return new Date(renewedMs + (lease.spec?.leaseDurationSeconds ?? 0) * 1000);
}

/**
 * A Lease's times are MicroTime: RFC 3339 in UTC with exactly six fractional digits, which the
 * API server insists on (it refuses `toISOString()`'s three). A Date has milliseconds only, so
 * the last three digits are zeros: `2026-12-04T15:00:00.123000Z`.
 */
function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}
