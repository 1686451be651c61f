/**
 * Which certificates a `retry` or `renew` command leaves a request for, and on which Ingress:
 * a pure choice over the recorded status (shared/status-entries.ts), so a table test pins it.
 */
import { statusKey, type CertificateStatus } from '../../shared/status-entries.js';
import type { RequestKind } from '../decide/operator-requests.js';
import type { CertificateRef } from './certificate-ref.js';

/** What the command was asked for: one certificate, or all that qualify. */
export type RequestScope = { certificate: CertificateRef } | { all: true };

/** A certificate to annotate: the Ingress that gets the request, and the entry for the message. */
export interface RequestTarget {
  status: CertificateStatus;
  ingress: { namespace: string; name: string };
}

/** A certificate asked for by name that gets no request, and why (a sentence). */
export interface RequestRefusal {
  certificate: string;
  message: string;
  /** `true` when nothing is wrong (e.g. nothing to retry): the command still exits 0. */
  harmless: boolean;
}

/**
 * The targets of a `kind` request in `scope`:
 * - retry: certificates with failures (`failures` > 0); one asked for by name that is not
 *   failing is refused as harmless (nothing to retry);
 * - renew: every certificate except invalid entries (`Invalid`: nothing can be issued for them).
 * The request goes on the first Ingress that asks for the certificate (the run honours a request
 * on any of them). A certificate not in the status, or asked for by no Ingress, is refused.
 * Never throws.
 */
export function selectRequestTargets(
  kind: RequestKind,
  scope: RequestScope,
  certificates: readonly CertificateStatus[],
): { targets: RequestTarget[]; refusals: RequestRefusal[] } {
  const qualifies = (c: CertificateStatus) =>
    kind === 'retry' ? c.failures > 0 : c.result !== 'Invalid';
  const targets: RequestTarget[] = [];
  const refusals: RequestRefusal[] = [];
  const consider = (c: CertificateStatus, named: boolean) => {
    const name = `${c.namespace}/${c.secretName}`;
    if (!qualifies(c)) {
      if (named)
        refusals.push(
          kind === 'retry'
            ? {
                certificate: name,
                message: `${name} is not failing (last result ${c.result}): nothing to retry.`,
                harmless: true,
              }
            : {
                certificate: name,
                message: `${name} cannot be renewed: its TLS entry is invalid (${c.reason}: ${c.message})`,
                harmless: false,
              },
        );
      return;
    }
    const ingress = firstIngress(c);
    if (!ingress) {
      refusals.push({
        certificate: name,
        message: `${name} is asked for by no Ingress in the status (${c.ingresses.join(', ') || 'none'}); annotate its requester by hand.`,
        harmless: false,
      });
      return;
    }
    targets.push({ status: c, ingress });
  };
  if ('certificate' in scope) {
    const key = statusKey(scope.certificate.namespace, scope.certificate.secretName);
    const entry = certificates.find((c) => statusKey(c.namespace, c.secretName) === key);
    if (entry) consider(entry, true);
    else
      refusals.push({
        certificate: `${scope.certificate.namespace}/${scope.certificate.secretName}`,
        message: `no certificate ${scope.certificate.namespace}/${scope.certificate.secretName} in the status: a run must have seen its Ingress first (\`status\` lists them).`,
        harmless: false,
      });
  } else {
    for (const c of certificates) consider(c, false);
  }
  return { targets, refusals };
}

/** The first requester that is an Ingress (`namespace/name`; other kinds are `Kind:…`). */
function firstIngress(c: CertificateStatus): { namespace: string; name: string } | undefined {
  for (const requester of c.ingresses) {
    if (requester.includes(':')) continue;
    const [namespace, name] = requester.split('/');
    if (namespace && name) return { namespace, name };
  }
  return undefined;
}
