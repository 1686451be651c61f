/**
 * The status ConfigMap's format, shared by the job (writer; also its failure back-off memory),
 * the job's `status` command and the responder's metrics (readers).
 *
 * One key per managed certificate, `<namespace>.<secretName>`, whose value is a JSON
 * {@link CertificateStatus}; and the key {@link RUN_KEY}, whose value is the last run's
 * {@link RunStatus}. Keys are valid ConfigMap keys because namespaces and Secret names are DNS
 * names. A ConfigMap holds at most 1 MiB and a plain entry takes about 250 bytes: past
 * {@link PLAIN_BUDGET_BYTES} the certificates go compressed into {@link COMPRESSED_KEY} instead
 * (5,000 certificates take about 100 KB there).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

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
  /**
   * The stored certificate's notBefore, ISO 8601. Optional (entries written before it existed
   * lack it): absent when there is no certificate.
   */
  notBefore?: string;
  /**
   * When the job will renew the stored certificate (the first run after this instant does),
   * ISO 8601, computed by the job with the rule its `RenewalDue` check applies
   * (jobs/decide/renewal-threshold.ts). Optional like `notBefore`.
   */
  renewalAt?: string;
  /**
   * The ACME directory that issued the stored certificate (the Secret's
   * `kube-lego.io/directory-url`); absent when unknown (no certificate, or written by kube-lego).
   */
  directoryUrl?: string;
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
  /** The last route preflight (jobs/issue/route-preflight.ts); absent when none ran yet. */
  preflight?: PreflightStatus;
}

/** What the last route preflight of a certificate found, before its last order. */
export interface PreflightStatus {
  /** When it ran, ISO 8601. */
  checkedAt: string;
  /** `Reachable`: every host's challenge route reached the responder. */
  result: 'Reachable' | 'Unreachable';
  /** The hosts whose route did not, with what was seen there; absent when every host did. */
  unreachable?: { host: string; seen: string }[];
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
  /**
   * Why the run stopped early, when it did: a failure of the whole run (`AcmeUnavailable`,
   * `KubeApiUnavailable`) or a stop request (`Stopped`); absent for a run that went through.
   */
  reason?: string;
  /** A sentence about `reason`. */
  message?: string;
  /*
   * Optional fields, absent in records written before they existed; readers treat absence as
   * unknown.
   */
  /** The ACME directory the run used (LEGO_URL). */
  directoryUrl?: string;
  /** Requests the run sent to the ACME server (0 when it had nothing to order). */
  acmeRequests?: number;
  /** Requests the run sent to the Kubernetes API. */
  apiRequests?: number;
  /** When the last run that ended `Succeeded` finished: this run, or an earlier one. */
  lastSuccessAt?: string;
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

/**
 * Key holding every certificate at once, gzipped JSON in base64, when one key per certificate
 * would not fit: a ConfigMap holds at most 1 MiB, about 4,000 certificates written plainly and
 * some 50,000 compressed.
 */
export const COMPRESSED_KEY = 'certificates.json.gz';

/** Above this many bytes of plain entries, the certificates are written compressed. */
export const PLAIN_BUDGET_BYTES = 512 * 1024;

/**
 * Builds the ConfigMap `data` of a status snapshot: one readable key per certificate, or, past
 * {@link PLAIN_BUDGET_BYTES}, all of them in {@link COMPRESSED_KEY}. The run stays readable.
 */
export function encodeStatus(
  certificates: readonly CertificateStatus[],
  run: RunStatus,
): Record<string, string> {
  const data: Record<string, string> = { [RUN_KEY]: JSON.stringify(run) };
  let size = 0;
  for (const c of certificates) {
    const key = statusKey(c.namespace, c.secretName);
    const value = JSON.stringify(c);
    size += key.length + value.length;
    data[key] = value;
  }
  if (size <= PLAIN_BUDGET_BYTES) return data;
  return {
    [RUN_KEY]: data[RUN_KEY] ?? '',
    [COMPRESSED_KEY]: gzipSync(JSON.stringify(certificates), { level: 9 }).toString('base64'),
  };
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
  for (const [key, value] of entriesOf(data, malformed)) {
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

/** The ConfigMap's entries, with a compressed certificate list unpacked into one per certificate. */
function entriesOf(
  data: Record<string, string> | undefined,
  malformed: string[],
): [string, string][] {
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(data ?? {})) {
    if (key !== COMPRESSED_KEY) {
      entries.push([key, value]);
      continue;
    }
    let list: unknown;
    try {
      list = JSON.parse(gunzipSync(Buffer.from(value, 'base64')).toString('utf8'));
    } catch {
      malformed.push(key);
      continue;
    }
    if (!Array.isArray(list)) {
      malformed.push(key);
      continue;
    }
    for (const [i, item] of list.entries())
      entries.push([`${COMPRESSED_KEY}[${i}]`, JSON.stringify(item)]);
  }
  return entries;
}
