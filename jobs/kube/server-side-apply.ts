/**
 * How the job writes the objects it owns (the routers' Ingress, Services, EndpointSlices):
 * server-side apply. One PATCH creates the object or
 * brings it to exactly the applied state (lists such as Ingress rules and EndpointSlice endpoints
 * are atomic, so they are replaced, not merged), and an apply that changes nothing does not
 * change the object's resourceVersion. That makes `ensure` one request and idempotent, with no
 * read first and no create/409/update dance.
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { kubeCall } from './kube-call.js';

/** The field manager of every apply: the managedFields of our objects name the job. */
export const FIELD_MANAGER = 'kube-lego';

/**
 * Request parameters of an apply. `force` takes over fields another manager set: these objects
 * are the job's by name and label, and must end up exactly as applied.
 */
export const APPLY_PARAMETERS = { fieldManager: FIELD_MANAGER, force: true } as const;

/**
 * Per-call options that make a client-node `patch*` method send an apply (client-node sends JSON
 * Patch otherwise). A fresh object per call: the client reverses the middleware list in place.
 */
export function applyOptions(): ReturnType<typeof setHeaderOptions> {
  return setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
}

/**
 * Sends one apply: `patch` gets the request parameters and the per-call options to spread into a
 * client-node `patch*` call, and its answer (the object as applied) is returned.
 * @throws KubeApiError naming `operation` when the apiserver refuses the apply.
 */
export function serverSideApply<T>(
  operation: string,
  patch: (
    parameters: typeof APPLY_PARAMETERS,
    options: ReturnType<typeof applyOptions>,
  ) => Promise<T>,
): Promise<T> {
  return kubeCall(operation, () => patch(APPLY_PARAMETERS, applyOptions()));
}
