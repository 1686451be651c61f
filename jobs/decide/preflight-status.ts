/**
 * Pure: the last route preflight of each certificate, as the status ConfigMap keeps it
 * (shared/status-entries.ts `preflight`). A run probes only the certificates it orders; the
 * others keep what an earlier run found, so `status` and the metrics always show the last result.
 */
import {
  statusKey,
  type CertificateStatus,
  type PreflightStatus,
} from '../../shared/status-entries.js';

/**
 * The record of one preflight at `now`: `Reachable` when `unreachable` is empty, else
 * `Unreachable` with those hosts and what was seen there.
 */
export function preflightStatus(
  unreachable: readonly { host: string; seen: string }[],
  now: Date,
): PreflightStatus {
  return unreachable.length === 0
    ? { checkedAt: now.toISOString(), result: 'Reachable' }
    : {
        checkedAt: now.toISOString(),
        result: 'Unreachable',
        unreachable: unreachable.map(({ host, seen }) => ({ host, seen })),
      };
}

/**
 * `certificates` with their `preflight`: this run's (`probed`, keyed by {@link statusKey}) when
 * there is one, else the one recorded in `previous` for the same certificate, else none.
 */
export function withPreflight(
  certificates: readonly CertificateStatus[],
  previous: readonly CertificateStatus[],
  probed: ReadonlyMap<string, PreflightStatus>,
): CertificateStatus[] {
  const earlier = new Map(
    previous.flatMap((p) =>
      p.preflight ? [[statusKey(p.namespace, p.secretName), p.preflight]] : [],
    ),
  );
  return certificates.map((c) => {
    const key = statusKey(c.namespace, c.secretName);
    const preflight = probed.get(key) ?? earlier.get(key);
    return preflight ? { ...c, preflight } : c;
  });
}
