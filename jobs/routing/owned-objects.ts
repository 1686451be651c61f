/**
 * Deleting the routers' objects by name, and only when they carry our labels.
 *
 * Why by name: RBAC can limit `get` and `delete` to the names the job uses (`resourceNames`),
 * but not `deletecollection`, which carries no name — a job allowed to delete Services by label
 * selector could delete every Service it can reach. So each object is deleted by its known name
 * (LEGO_SERVICE_NAME_NGINX, LEGO_INGRESS_NAME_NGINX, LEGO_SERVICE_NAME_GCE and its slices), and
 * only if it is ours: every DELETE carries preconditions (the object's `uid`, and its
 * `resourceVersion` when our labels were seen on a read) so the apiserver deletes exactly the
 * object we know to be ours, or answers 409 Conflict and we read it again.
 *
 * What a run has written, read or deleted is remembered, so most deletes cost one request and
 * none needs a read: an apply's answer or a labelled list's item is a copy that carries our
 * labels, and an object this run deleted or found absent is not looked for again. Only the job
 * writes these names while it holds the Lease, so that memory stays true within a run.
 */
import type { KubernetesObject, V1DeleteOptions, V1Preconditions } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import {
  ENDPOINTSLICES,
  HTTPROUTES,
  INGRESSES,
  SERVICES,
  type ResourceType,
} from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { isNotFound, toKubeApiError } from '../../shared/kube/api-error.js';
import { kubeCallUnlessNotFound } from '../kube/kube-call.js';
import { retryOnConflict } from '../kube/retry-on-conflict.js';

/** Where an object is: its namespace and name. */
export interface ObjectName {
  namespace: string;
  name: string;
}

/** An object as the apiserver sends it, as far as {@link OwnedObjects} reads it. */
export type OwnedObject = Wire<KubernetesObject>;

/** One kind of object {@link OwnedObjects} deletes by name. */
export interface OwnedKind {
  /** The kind, for messages: `Service`, `Ingress`, `EndpointSlice`, `HTTPRoute`. */
  readonly kind: string;
  /** Where objects of this kind are in the API. */
  readonly type: ResourceType;
}

/** Services by name. */
export const SERVICE_KIND: OwnedKind = { kind: 'Service', type: SERVICES };
/** Ingresses by name. */
export const INGRESS_KIND: OwnedKind = { kind: 'Ingress', type: INGRESSES };
/** EndpointSlices by name. */
export const ENDPOINTSLICE_KIND: OwnedKind = { kind: 'EndpointSlice', type: ENDPOINTSLICES };
/** HTTPRoutes (Gateway API) by name. */
export const HTTPROUTE_KIND: OwnedKind = { kind: 'HTTPRoute', type: HTTPROUTES };

/**
 * What became of a delete: `deleted`; `absent` (nothing by that name, or this run already
 * deleted it); `not-ours` (an object by that name without our labels, left as it is).
 */
export type DeleteOutcome = 'deleted' | 'absent' | 'not-ours';

/** What a run knows of one of its objects: a copy carrying our labels, or that it is gone. */
type Known = { preconditions: V1Preconditions } | 'absent';

/** The objects of one kind that carry `labels`, deleted by name; see the module comment. */
export class OwnedObjects {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly kube: KubeHttp,
    private readonly what: OwnedKind,
    private readonly labels: Readonly<Record<string, string>>,
  ) {}

  /**
   * Remembers a copy of an object this run wrote or read: the answer of an apply (precondition:
   * its uid, since this run put our labels on it) or an item of a list (uid and
   * resourceVersion). A copy without our labels, or without a uid, is forgotten instead.
   */
  record(object: OwnedObject, source: 'written' | 'read'): void {
    const { name, namespace, uid, resourceVersion } = object.metadata ?? {};
    if (!name || !namespace) return;
    const key = `${namespace}/${name}`;
    if (!uid || !this.carriesLabels(object)) {
      this.known.delete(key);
      return;
    }
    this.known.set(key, {
      preconditions: source === 'written' ? { uid } : { uid, resourceVersion },
    });
  }

  /**
   * Deletes `target` if it carries our labels: one DELETE when this run knows the object, else a
   * GET first (a 404 ends it). When the object changed since it was known (409 Conflict on the
   * preconditions), it is read again and the check repeated (5 attempts).
   * @throws KubeApiError when a read or the delete fails, or every attempt conflicted.
   */
  async delete(target: ObjectName): Promise<DeleteOutcome> {
    const key = `${target.namespace}/${target.name}`;
    const reference = `${this.what.kind} ${key}`;
    const remembered = this.known.get(key);
    if (remembered === 'absent') return 'absent';
    const outcome = await retryOnConflict(async (attemptNumber): Promise<DeleteOutcome> => {
      let preconditions = attemptNumber === 1 ? remembered?.preconditions : undefined;
      if (!preconditions) {
        const current = await kubeCallUnlessNotFound(`read ${reference}`, () =>
          this.kube.get<OwnedObject>(this.what.type, target.namespace, target.name),
        );
        if (!current) return 'absent';
        if (!this.carriesLabels(current) || !current.metadata?.uid) return 'not-ours';
        preconditions = {
          uid: current.metadata.uid,
          resourceVersion: current.metadata.resourceVersion,
        };
      }
      try {
        const options: V1DeleteOptions = { preconditions };
        await this.kube.delete(this.what.type, target.namespace, target.name, options);
        return 'deleted';
      } catch (error) {
        if (isNotFound(error)) return 'absent';
        throw toKubeApiError(`delete ${reference}`, error);
      }
    });
    if (outcome === 'not-ours') this.known.delete(key);
    else this.known.set(key, 'absent');
    return outcome;
  }

  private carriesLabels(object: OwnedObject): boolean {
    const labels = object.metadata?.labels ?? {};
    return Object.entries(this.labels).every(([key, value]) => labels[key] === value);
  }
}
