/**
 * The status ConfigMap's format, shared by the job (writer; also its failure back-off memory),
 * the job's `status` command and the responder's metrics (readers).
 *
 * One key per managed certificate, `<namespace>.<secretName>`, whose value is a JSON
 * {@link CertificateStatus}; and the key {@link RUN_KEY}, whose value is the last run's
 * {@link RunStatus}. Keys are valid ConfigMap keys because namespaces and Secret names are DNS
 * names. A ConfigMap holds at most 1 MiB: an entry is about 250 bytes, so some 4,000 certificates.
 */
import { createHash } from 'node:crypto';

/** Key of the last run's summary. Never collides: certificate keys always contain a dot. */
export const RUN_KEY = 'run';

/** What the last run concluded about one certificate. */
export type CertificateResult =
  | 'Valid' // present and needs nothing
  | 'Issued' // obtained for the first time in this run
  | 'Renewed' // replaced in this run
  | 'Failed' // issuance failed; `failures` counts consecutive failures
  | 'BackingOff' // not attempted: an earlier failure's back-off has not run out
  | 'Invalid' // the TLS entry cannot be served (bad hosts, conflict, wrong Secret type)
  | 'Planned'; // `plan` only: would be (re)issued

export interface CertificateStatus {
  namespace: string;
  secretName: string;
  /** The Ingresses whose TLS entries want this certificate, `namespace/name`. */
  ingresses: string[];
  hosts: string[];
  /** The stored certificate's notAfter, ISO 8601; `null` when there is none. */
  notAfter: string | null;
  result: CertificateResult;
  /** Stable PascalCase reason of the last decision or failure. */
  reason: string;
  message: string;
  /** When the job last looked at it, ISO 8601. */
  checkedAt: string;
  /** Consecutive failed issuance attempts; 0 after a success. */
  failures: number;
  /** When the last failed attempt was made, ISO 8601. */
  lastFailureAt?: string;
  /** No new attempt before this instant, ISO 8601 (back-off or the server's Retry-After). */
  retryAfter?: string;
  /** The host set the failures were counted for: a changed set starts afresh. */
  failedHosts?: string[];
}

export interface RunStatus {
  startedAt: string;
  finishedAt: string;
  /** `Succeeded` when no entry failed. */
  result: 'Succeeded' | 'Failed';
  entries: number;
  issued: number;
  renewed: number;
  valid: number;
  skipped: number;
  failed: number;
}

/** The ConfigMap key of a certificate. */
export function statusKey(namespace: string, secretName: string): string {
  const key = `${namespace}.${secretName}`;
  // ConfigMap keys are at most 253 characters; a namespace (63) and a Secret name (253) may be
  // longer together. Such a key keeps its start and ends in a hash of the whole; readers use the
  // `namespace` and `secretName` fields, never the key.
  if (key.length <= 253) return key;
  return `${key.slice(0, 236)}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** Builds the ConfigMap `data` of a status snapshot. */
export function encodeStatus(
  certificates: readonly CertificateStatus[],
  run: RunStatus,
): Record<string, string> {
  const data: Record<string, string> = { [RUN_KEY]: JSON.stringify(run) };
  for (const c of certificates) data[statusKey(c.namespace, c.secretName)] = JSON.stringify(c);
  return data;
}

/**
 * Reads a status ConfigMap's `data`. Never throws: unreadable values are skipped and their keys
 * returned in `malformed`.
 */
export function decodeStatus(data: Record<string, string> | undefined): {
  certificates: CertificateStatus[];
  run: RunStatus | undefined;
  malformed: string[];
} {
  const certificates: CertificateStatus[] = [];
  const malformed: string[] = [];
  let run: RunStatus | undefined;
  for (const [key, value] of Object.entries(data ?? {})) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      malformed.push(key);
      continue;
    }
    if (key === RUN_KEY) {
      if (isRecord(parsed) && typeof parsed.finishedAt === 'string')
        run = parsed as unknown as RunStatus;
      else malformed.push(key);
      continue;
    }
    if (
      isRecord(parsed) &&
      typeof parsed.namespace === 'string' &&
      typeof parsed.secretName === 'string' &&
      Array.isArray(parsed.hosts) &&
      typeof parsed.result === 'string' &&
      (parsed.notAfter === null || typeof parsed.notAfter === 'string')
    ) {
      const entry = parsed as Partial<CertificateStatus> &
        Pick<CertificateStatus, 'namespace' | 'secretName' | 'hosts' | 'result' | 'notAfter'>;
      certificates.push({
        ...entry,
        ingresses: entry.ingresses ?? [],
        reason: entry.reason ?? '',
        message: entry.message ?? '',
        checkedAt: entry.checkedAt ?? '',
        failures: entry.failures ?? 0,
      });
    } else {
      malformed.push(key);
    }
  }
  certificates.sort((a, b) =>
    statusKey(a.namespace, a.secretName).localeCompare(statusKey(b.namespace, b.secretName)),
  );
  return { certificates, run, malformed };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
