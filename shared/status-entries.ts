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
import { StatusTooLargeError } from './errors.js';
import { decodeRenewalInfo, type RenewalInfoRecord } from './renewal-info.js';
import { decodeSecretFacts, type SecretFactsRecord } from './secret-facts.js';

/** Key of the last run's summary. Never collides: certificate keys always contain a dot. */
export const RUN_KEY = 'run';

/**
 * The operator's requests for the next run (the `retry` and `renew` commands, or `kubectl patch`):
 * `retry` forgets a failing certificate's back-off, `renew` re-issues a valid certificate. Each is
 * one key, {@link requestKey}, whose value is free text (the commands write the time); the run
 * that honours a request removes its key. Request keys start with `_`, which no namespace — and
 * so no certificate key — can.
 */
export const REQUEST_KINDS = ['retry', 'renew'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** A pending request as read from the ConfigMap. */
export interface PendingRequest {
  kind: RequestKind;
  /** Its key: `{@link requestKey}(kind, namespace, secretName)` of the certificate it is for. */
  key: string;
  /** The value as read (the run removes the key only while it still has this value). */
  value: string;
}

/** The key of a `kind` request for a certificate: `_retry.<namespace>.<secret>`. */
export function requestKey(kind: RequestKind, namespace: string, secretName: string): string {
  return `_${kind}.${statusKey(namespace, secretName, 253 - kind.length - 2)}`;
}

function requestKindOf(key: string): RequestKind | undefined {
  return REQUEST_KINDS.find((kind) => key.startsWith(`_${kind}.`));
}

/** What the last run concluded about one certificate. */
export type CertificateResult =
  | 'Valid' // present and needs nothing
  | 'Issued' // obtained for the first time in this run
  | 'Renewed' // replaced in this run
  | 'Failed' // issuance failed; `failures` counts consecutive failures
  | 'BackingOff' // not attempted: an earlier failure's back-off has not run out
  | 'Invalid' // the TLS entry cannot be served (bad hosts, conflict, wrong Secret type)
  | 'Deferred' // needed, but the run's time or order budget was spent: the next run orders it
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
  /*
   * Optional fields, absent in entries written before they existed; readers treat absence as
   * unknown. Later additions (a preflight result, an ARI window) follow the same rule: optional,
   * validated in {@link decodeStatus}, dropped there when unreadable rather than failing the entry.
   */
  /**
   * The last failed attempt's stable reason and message (with `lastFailureAt`). Unlike `reason`
   * and `message`, which say what the last run decided (`BackingOff` on a run that waited), these
   * change only when an attempt fails: a back-off run leaves them as they were. Cleared with
   * the rest of the failure memory by a success or a valid certificate (`history` keeps them).
   */
  lastFailureReason?: string;
  lastFailureMessage?: string;
  /** When a certificate was last stored (issued or renewed), ISO 8601. */
  lastSuccessAt?: string;
  /** The stored certificate's key, as `RSA 2048` or `ECDSA P-256`. */
  keyType?: string;
  /**
   * The last attempts, oldest first, at most {@link HISTORY_LIMIT}: only runs that ordered (or
   * installed) a certificate add one; a back-off or a valid certificate adds nothing.
   */
  history?: AttemptRecord[];
  /** The stored certificate's ACME Renewal Information (shared/renewal-info.ts), if known. */
  renewalInfo?: RenewalInfoRecord;
  /** The last route preflight (jobs/issue/route-preflight.ts); absent when none ran yet. */
  preflight?: PreflightStatus;
  /**
   * What parsing the stored Secret found (shared/secret-facts.ts): the next run decides from it
   * without parsing while the Secret is unchanged. Absent when there is no readable certificate
   * and key, and after an order (the Secret was rewritten).
   */
  secretFacts?: SecretFactsRecord;
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

/** One attempt to obtain a certificate, as kept in {@link CertificateStatus.history}. */
export interface AttemptRecord {
  /** When the attempt was made, ISO 8601. */
  at: string;
  result: 'Issued' | 'Renewed' | 'Failed';
  /** Why it was made (`SecretMissing`, `RenewalRequested`, …) or, when it failed, why it failed. */
  reason: string;
  /** At most {@link SHORT_MESSAGE_LENGTH} characters. */
  message: string;
  /** The ACME directory it was made against (LEGO_URL), when known. */
  directoryUrl?: string;
}

/** Attempts kept per certificate: enough to see a pattern, small enough for 5,000 entries. */
export const HISTORY_LIMIT = 5;

/** Longest message kept in an {@link AttemptRecord}; a longer one is cut with `…`. */
export const SHORT_MESSAGE_LENGTH = 200;

/** `message` on one line and at most `limit` characters (cut with `…`). */
export function shortMessage(message: string, limit = SHORT_MESSAGE_LENGTH): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length <= limit ? line : `${line.slice(0, Math.max(0, limit - 1))}…`;
}

/**
 * `history` with `attempt` appended (its message shortened), keeping the last
 * {@link HISTORY_LIMIT}. `history` may be `undefined` (an entry written before it existed).
 */
export function appendAttempt(
  history: readonly AttemptRecord[] | undefined,
  attempt: AttemptRecord,
): AttemptRecord[] {
  return [...(history ?? []), { ...attempt, message: shortMessage(attempt.message) }].slice(
    -HISTORY_LIMIT,
  );
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
   * Needed certificates left for the next run because the run's time or order budget was spent
   * (result `Deferred`); absent when none was (and in records written before it existed).
   */
  deferred?: number;
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
export function statusKey(namespace: string, secretName: string, limit = 253): string {
  const key = `${namespace}.${secretName}`;
  // ConfigMap keys are at most 253 characters; a namespace (63) and a Secret name (253) may be
  // longer together. Such a key keeps its start and ends in a hash of the whole; readers use the
  // `namespace` and `secretName` fields, never the key. (`limit` leaves room for a prefix.)
  if (key.length <= limit) return key;
  return `${key.slice(0, limit - 17)}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * Key holding every certificate at once, gzipped JSON in base64, when one key per certificate
 * would not fit: a ConfigMap holds at most 1 MiB, about 4,000 certificates written plainly and
 * some 40,000 compressed (docs/design.md, "The status ConfigMap", gives the measurement).
 */
export const COMPRESSED_KEY = 'certificates.json.gz';

/** Above this many bytes of plain entries, the certificates are written compressed. */
export const PLAIN_BUDGET_BYTES = 512 * 1024;

/** What a ConfigMap's `data` may hold, keys and values together: 1 MiB (the API server's check). */
export const CONFIGMAP_DATA_LIMIT_BYTES = 1024 * 1024;

/**
 * Builds the ConfigMap `data` of a status snapshot: one readable key per certificate, or, past
 * {@link PLAIN_BUDGET_BYTES}, all of them in {@link COMPRESSED_KEY}. The run stays readable.
 * @param limit what the `data` may hold (a parameter for tests).
 * @throws StatusTooLargeError when even the smallest compressed form exceeds `limit`: sending it
 *   would only have the API server refuse it.
 */
export function encodeStatus(
  certificates: readonly CertificateStatus[],
  run: RunStatus,
  limit = CONFIGMAP_DATA_LIMIT_BYTES,
): Record<string, string> {
  const data: Record<string, string> = { [RUN_KEY]: JSON.stringify(run) };
  let size = 0;
  for (const c of certificates) {
    const key = statusKey(c.namespace, c.secretName);
    const value = JSON.stringify(c);
    size += key.length + value.length;
    // Past the budget the plain form is given up at once: building it whole first kept
    // megabytes of strings alive through the compression, at the run's peak of memory.
    if (size > PLAIN_BUDGET_BYTES) break;
    data[key] = value;
  }
  if (size <= PLAIN_BUDGET_BYTES) return data;
  // What may be given up to stay under the ConfigMap's 1 MiB: first the recorded Secret facts
  // (a cache: the next run parses those Secrets again), then all but the last attempt of each
  // history, then all of it; the failure memory and the rest of each entry always stay.
  let compressed = '';
  for (const [keep, facts] of [
    [HISTORY_LIMIT, true],
    [HISTORY_LIMIT, false],
    [1, false],
    [0, false],
  ] as const) {
    compressed = gzipSync(
      JSON.stringify(certificates.map((c) => withHistory(facts ? c : withoutFacts(c), keep))),
      { level: 9 },
    ).toString('base64');
    if (compressed.length <= COMPRESSED_BUDGET_BYTES) break;
  }
  const result = { [RUN_KEY]: data[RUN_KEY] ?? '', [COMPRESSED_KEY]: compressed };
  // Base64 is ASCII; the run's JSON may hold a message in any script.
  const bytes = Object.entries(result).reduce(
    (sum, [key, value]) => sum + key.length + Buffer.byteLength(value),
    0,
  );
  if (bytes > limit) throw new StatusTooLargeError(certificates.length, bytes, limit);
  return result;
}

/** Above this many bytes of compressed entries, older attempts are left out of the histories. */
export const COMPRESSED_BUDGET_BYTES = 768 * 1024;

function withoutFacts(status: CertificateStatus): CertificateStatus {
  if (status.secretFacts === undefined) return status;
  const { secretFacts: _facts, ...rest } = status;
  return rest;
}

function withHistory(status: CertificateStatus, keep: number): CertificateStatus {
  if (status.history === undefined || status.history.length <= keep) return status;
  const { history, ...rest } = status;
  return keep === 0 ? rest : { ...rest, history: history.slice(-keep) };
}

/**
 * Reads a status ConfigMap's `data`. Never throws: unreadable values are skipped and their keys
 * returned in `malformed`.
 */
export function decodeStatus(data: Record<string, string> | undefined): {
  certificates: CertificateStatus[];
  run: RunStatus | undefined;
  /** The operator's pending requests ({@link REQUEST_KINDS}), in key order. */
  requests: PendingRequest[];
  malformed: string[];
} {
  const certificates: CertificateStatus[] = [];
  const malformed: string[] = [];
  const requests: PendingRequest[] = [];
  let run: RunStatus | undefined;
  for (const [key, value] of entriesOf(data, malformed)) {
    const kind = typeof value === 'string' ? requestKindOf(key) : undefined;
    if (kind !== undefined && typeof value === 'string') {
      requests.push({ kind, key, value });
      continue;
    }
    let parsed: unknown;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        malformed.push(key);
        continue;
      }
    } else {
      parsed = value.item;
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
      const {
        history,
        renewalInfo: storedRenewalInfo,
        secretFacts: storedSecretFacts,
        ...rest
      } = entry;
      const attempts = readHistory(history);
      const renewalInfo = decodeRenewalInfo(storedRenewalInfo);
      const secretFacts = decodeSecretFacts(storedSecretFacts);
      certificates.push({
        ...rest,
        ...(attempts ? { history: attempts } : {}),
        ...(renewalInfo ? { renewalInfo } : {}),
        ...(secretFacts ? { secretFacts } : {}),
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
  requests.sort((a, b) => a.key.localeCompare(b.key));
  return { certificates, run, requests, malformed };
}

/** The readable records of a `history` value; `undefined` when it is not a list. */
function readHistory(value: unknown): AttemptRecord[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(
    (item): item is AttemptRecord =>
      isRecord(item) &&
      typeof item.at === 'string' &&
      typeof item.result === 'string' &&
      typeof item.reason === 'string' &&
      typeof item.message === 'string',
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The ConfigMap's entries, with a compressed certificate list unpacked into one per certificate:
 * a plain key's value as its text, a compressed item as already parsed (`{ item }`), so that a
 * list of thousands is parsed once, not parsed, written back and parsed again.
 */
function entriesOf(
  data: Record<string, string> | undefined,
  malformed: string[],
): [string, string | { item: unknown }][] {
  const entries: [string, string | { item: unknown }][] = [];
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
    for (const [i, item] of list.entries()) entries.push([`${COMPRESSED_KEY}[${i}]`, { item }]);
  }
  return entries;
}
