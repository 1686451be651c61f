/**
 * Requests an operator leaves for the next run: "retry now" (forget the back-off) and "renew
 * now" (re-issue although the certificate is valid). They live as annotations on the object that
 * asks for the certificate (an Ingress), because the job runs without a shell from the CronJob's
 * template — `kubectl create job --from=cronjob/…` cannot change its arguments — so the request
 * must be data the next run reads, and an annotation is data plain `kubectl annotate` can write.
 * The value lists the Secret names the request is for (one Ingress may have several TLS
 * entries); the run removes a name once it has honoured it. docs/operating.md explains the
 * design. Pure: the adapter that reads and writes the annotations is jobs/kube/request-annotations.ts.
 */
import { ANNOTATION_PREFIX } from '../../shared/labels.js';
import type { DesiredCertificate, Requester } from '../model.js';

/** The kinds of request, each with its annotation. */
export const REQUEST_ANNOTATIONS = {
  retry: `${ANNOTATION_PREFIX}retry`,
  renew: `${ANNOTATION_PREFIX}renew`,
} as const;
export type RequestKind = keyof typeof REQUEST_ANNOTATIONS;

/** One requester's pending request for a certificate, with the annotation value as read. */
export interface RequestHolder {
  kind: RequestKind;
  requester: Requester;
  /** The whole annotation value when it was read (the adapter writes only if it is unchanged). */
  value: string;
}

/**
 * The Secret names an annotation value lists: separated by commas or white space, trimmed, each
 * once, in order. `undefined` or a blank value lists none. Never throws.
 */
export function requestedSecrets(value: string | undefined): string[] {
  if (value === undefined) return [];
  return [...new Set(value.split(/[\s,]+/).filter((name) => name !== ''))];
}

/** The annotation value after `secretName` is added; the same list when it is already there. */
export function withRequestedSecret(value: string | undefined, secretName: string): string {
  const names = requestedSecrets(value);
  return (names.includes(secretName) ? names : [...names, secretName]).join(',');
}

/**
 * The annotation value after `secretName` is removed; `undefined` when no name is left (the
 * annotation is then removed).
 */
export function withoutRequestedSecret(
  value: string | undefined,
  secretName: string,
): string | undefined {
  const names = requestedSecrets(value).filter((name) => name !== secretName);
  return names.length === 0 ? undefined : names.join(',');
}

/**
 * The requests pending for `certificate`: one per requester and kind whose annotation lists the
 * certificate's Secret. `annotationsOf` returns a requester's annotations (`undefined` when
 * unknown: no request). Never throws.
 */
export function findRequests(
  certificate: DesiredCertificate,
  annotationsOf: (requester: Requester) => Readonly<Record<string, string>> | undefined,
): RequestHolder[] {
  const holders: RequestHolder[] = [];
  const seen = new Set<string>();
  for (const ref of certificate.requesters) {
    const requester: Requester = {
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
      uid: ref.uid,
    };
    // One Ingress may name the Secret in two TLS entries: one holder each.
    const key = `${requester.kind}/${requester.namespace}/${requester.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const annotations = annotationsOf(requester) ?? {};
    for (const kind of Object.keys(REQUEST_ANNOTATIONS) as RequestKind[]) {
      const value = annotations[REQUEST_ANNOTATIONS[kind]];
      if (value !== undefined && requestedSecrets(value).includes(certificate.secretName))
        holders.push({ kind, requester, value });
    }
  }
  return holders;
}
