/**
 * Adapter: the operator's request annotations (`kube-lego.io/retry`, `kube-lego.io/renew`) on
 * users' Ingresses (format and meaning: jobs/decide/operator-requests.ts). The `retry` and
 * `renew` commands add a Secret name; the run removes it once honoured. Only the one annotation
 * is ever written, and only when it still reads what was decided on.
 */
import { PatchStrategy, setHeaderOptions, type NetworkingV1Api } from '@kubernetes/client-node';
import {
  REQUEST_ANNOTATIONS,
  withRequestedSecret,
  type RequestHolder,
  type RequestKind,
} from '../decide/operator-requests.js';
import { kubeCall } from './kube-call.js';
import { retryOnConflict } from './retry-on-conflict.js';

export class RequestAnnotations {
  constructor(private readonly networking: NetworkingV1Api) {}

  /**
   * Sets the holder's annotation to `value`, or removes it when `value` is `undefined`, in one
   * JSON Patch (RFC 6902) whose `test` operation makes the API server refuse it (422) when the
   * annotation no longer reads `holder.value`: a request added meanwhile is never lost.
   * @throws KubeApiError when the Ingress is gone, the annotation changed, or the write fails.
   */
  async clear(holder: RequestHolder, value: string | undefined): Promise<void> {
    const { namespace, name } = holder.requester;
    // RFC 6901: `/` in a key is written `~1`.
    const path = `/metadata/annotations/${REQUEST_ANNOTATIONS[holder.kind].replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const body = [
      { op: 'test', path, value: holder.value },
      value === undefined ? { op: 'remove', path } : { op: 'replace', path, value },
    ];
    await kubeCall(`update ${REQUEST_ANNOTATIONS[holder.kind]} of Ingress ${namespace}/${name}`, () =>
      this.networking.patchNamespacedIngress(
        { namespace, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
  }

  /**
   * Adds `secretName` to the `kind` request annotation of Ingress `namespace/name` (read, change,
   * write with the read resourceVersion; again on 409). Returns the annotation's new value.
   * @throws KubeApiError when the Ingress cannot be read or written (404 when it is gone).
   */
  async request(
    kind: RequestKind,
    ingress: { namespace: string; name: string },
    secretName: string,
  ): Promise<string> {
    const where = `${ingress.namespace}/${ingress.name}`;
    const annotation = REQUEST_ANNOTATIONS[kind];
    return retryOnConflict(async () => {
      const current = await kubeCall(`read Ingress ${where}`, () =>
        this.networking.readNamespacedIngress(ingress),
      );
      const value = withRequestedSecret(current.metadata?.annotations?.[annotation], secretName);
      await kubeCall(`annotate Ingress ${where}`, () =>
        this.networking.patchNamespacedIngress(
          {
            ...ingress,
            body: {
              metadata: {
                resourceVersion: current.metadata?.resourceVersion,
                annotations: { [annotation]: value },
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      );
      return value;
    });
  }
}
