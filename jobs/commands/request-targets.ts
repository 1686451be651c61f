/**
 * Which certificates a `retry` or `renew` command leaves a request for: a pure choice over the
 * recorded status (shared/status-entries.ts), so a table test pins it.
 */
import { statusKey, type CertificateStatus } from '../../shared/status-entries.js';
import type { RequestKind } from '../decide/operator-requests.js';
import type { CertificateRef } from './certificate-ref.js';

/** What the command was asked for: one certificate, or all that qualify. */
export type RequestScope = { certificate: CertificateRef } | { all: true };

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
 * A certificate not in the status is refused (the run would not know it). Never throws.
 */
export function selectRequestTargets(
  kind: RequestKind,
  scope: RequestScope,
  certificates: readonly CertificateStatus[],
): { targets: CertificateStatus[]; refusals: RequestRefusal[] } {
  const qualifies = (c: CertificateStatus) =>
    kind === 'retry' ? c.failures > 0 : c.result !== 'Invalid';
  const targets: CertificateStatus[] = [];
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
    targets.push(c);
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
