/**
 * How the job writes the objects it owns (the routers' Ingress, Services, EndpointSlices):
 * server-side apply. One PATCH creates the object or
 * brings it to exactly the applied state (lists such as Ingress rules and EndpointSlice endpoints
 * are atomic, so they are replaced, not merged), and an apply that changes nothing does not
 * change the object's resourceVersion. That makes `ensure` one request and idempotent, with no
 * read first and no create/409/update dance.
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import type { ResourceType } from '../../shared/kube/kube-resources.js';
import { kubeCall } from './kube-call.js';

/** The field manager of every apply: the managedFields of our objects name the job. */
export const FIELD_MANAGER = 'kube-lego';

/**
 * Query parameters of an apply. `force` takes over fields another manager set: these objects
 * are the job's by name and label, and must end up exactly as applied.
 */
export const APPLY_PARAMETERS = { fieldManager: FIELD_MANAGER, force: true } as const;

/** The object an apply writes: where it is, and its whole wanted state. */
export interface ApplyTarget {
  type: ResourceType;
  namespace: string;
  name: string;
  /** The object as it must end up, with `apiVersion` and `kind` (the apiserver requires them). */
  body: unknown;
}

/**
 * Sends one apply of `target` (PATCH with the apply content type, {@link APPLY_PARAMETERS}) and
 * returns the apiserver's answer: the object as applied, as JSON (`T` should be a `Wire<…>`
 * type; dates are strings).
 * @throws KubeApiError naming `operation` when the apiserver refuses the apply.
 */
export function serverSideApply<T>(
  kube: KubeHttp,
  operation: string,
  target: ApplyTarget,
): Promise<T> {
  return kubeCall(operation, () =>
    kube.patch<T>(
      target.type,
      target.namespace,
      target.name,
      'apply',
      target.body,
      APPLY_PARAMETERS,
    ),
  );
}
