/**
 * Changing the rules of a user's Ingress, which the job does not own: a fresh read, the change,
 * and a JSON merge patch of `spec.rules` alone that carries the read `metadata.resourceVersion`.
 * The apiserver refuses it with 409 Conflict when anyone wrote in between, and the whole
 * read-change-write starts again. Only `spec.rules` is sent, so no other field of the user's
 * Ingress (annotations, TLS, default backend, fields newer than this code) is rewritten; within
 * the rules, every field is sent back as read (the JSON as the apiserver sent it, not a model of
 * it).
 */
import type { V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { INGRESSES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import type { Logger } from '../../shared/logger.js';
import { kubeCall, kubeCallUnlessNotFound } from '../kube/kube-call.js';
import { retryOnConflict } from '../kube/retry-on-conflict.js';

/** A change of rules: the new rules, or `undefined` when nothing needs to change. */
export type RulesEdit = (rules: readonly V1IngressRule[]) => V1IngressRule[] | undefined;

/** What became of the Ingress. */
export type EditOutcome = 'changed' | 'unchanged' | 'absent';

/**
 * Applies `edit` to the rules of Ingress `namespace/name` under optimistic concurrency. `known`,
 * when given, is a copy just read (e.g. from a list) used for the first attempt instead of a GET.
 * Returns `absent` when the Ingress does not exist, `unchanged` when `edit` had nothing to do.
 * @throws KubeApiError when a read or the write fails, or every attempt conflicted.
 */
export async function editIngressRules(
  kube: KubeHttp,
  target: { namespace: string; name: string },
  edit: RulesEdit,
  logger: Logger,
  known?: Wire<V1Ingress>,
): Promise<EditOutcome> {
  const reference = `${target.namespace}/${target.name}`;
  return retryOnConflict(
    async (attemptNumber) => {
      const ingress =
        attemptNumber === 1 && known
          ? known
          : await kubeCallUnlessNotFound(`read Ingress ${reference}`, () =>
              kube.get<Wire<V1Ingress>>(INGRESSES, target.namespace, target.name),
            );
      if (!ingress) return 'absent';
      const rules = edit(ingress.spec?.rules ?? []);
      if (!rules) return 'unchanged';
      const resourceVersion = ingress.metadata?.resourceVersion;
      await kubeCall(`patch rules of Ingress ${reference}`, () =>
        kube.patch(INGRESSES, target.namespace, target.name, 'merge', {
          metadata: { resourceVersion },
          // `null` deletes the field, as it was before when we added the only rules.
          spec: { rules: rules.length > 0 ? rules : null },
        }),
      );
      return 'changed';
    },
    {
      onConflict: (attemptNumber) => {
        logger.debug('ingress changed while we changed it; reading it again', {
          ingress: reference,
          attempt: attemptNumber,
        });
      },
    },
  );
}
