/**
 * Adapter (gather): Ingresses as {@link IngressView}s, by paginated list calls — in every
 * namespace, or in LEGO_WATCH_NAMESPACE only.
 */
import type { V1Ingress } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { INGRESSES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import type { IngressView } from '../model.js';
import { kubeCall } from './kube-call.js';

/**
 * Lists every Ingress the job may look at; filtering by annotation is a decision, not done here.
 * @throws KubeApiError when a list call fails.
 */
export function listIngresses(kube: KubeHttp, watchNamespace: string): Promise<IngressView[]> {
  return kubeCall(`list Ingresses${watchNamespace ? ` in ${watchNamespace}` : ''}`, () =>
    kube.list(INGRESSES, watchNamespace, {}, toIngressView),
  );
}

/** Extracts what the job reads of an Ingress. */
export function toIngressView(ingress: Wire<V1Ingress>): IngressView {
  const tls: unknown = ingress.spec?.tls;
  return {
    namespace: ingress.metadata?.namespace ?? '',
    name: ingress.metadata?.name ?? '',
    uid: ingress.metadata?.uid ?? '',
    resourceVersion: ingress.metadata?.resourceVersion ?? '',
    annotations: { ...(ingress.metadata?.annotations ?? {}) },
    ingressClassName: ingress.spec?.ingressClassName,
    tls: Array.isArray(tls) ? (tls as IngressView['tls']) : [],
  };
}
