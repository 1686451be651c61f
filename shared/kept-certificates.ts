/**
 * The format of kept certificates: certificates the job obtained but could not write to their
 * Secret (the write was refused, or the API server went away at that moment). Nothing obtained
 * from Let's Encrypt is thrown away: the chain and key wait in one Secret of the job's own,
 * {@link KEPT_SECRET_NAME} in LEGO_NAMESPACE, and later runs install them instead of ordering
 * again while they are valid for the same hosts and key type. An entry is removed once installed.
 *
 * An entry is written before the order is finalized (RFC 8555 §7.4), with the order's URL and
 * the key but no chain yet: if the run ends between finalization and storing (the API server
 * gone, the process killed), the next run downloads the certificate of that order (a POST-as-GET
 * of the order, §7.1.3, then of its certificate URL, §7.4.2) instead of ordering again. The
 * chain is added when the Secret write fails after the download.
 *
 * One data key per certificate, {@link keptKey} (`<namespace>.<secretName>.json`), whose value
 * is a JSON {@link KeptCertificate}. One Secret with a fixed name, so that RBAC can grant the job
 * exactly it (get and update by name) and nothing else in its namespace.
 */
import { statusKey } from './status-entries.js';

/** The Secret in LEGO_NAMESPACE holding kept certificates. */
export const KEPT_SECRET_NAME = 'kube-lego-kept-certificates';

export interface KeptCertificate {
  /** Where the certificate belongs. */
  namespace: string;
  secretName: string;
  /** Exactly the certificate's DNS names, sorted. */
  hosts: string[];
  /** `rsa` with `rsaKeySize`, or `ecdsa-p256` / `ecdsa-p384`. */
  keyType: string;
  rsaKeySize?: number;
  /** The ACME directory that issued it. */
  directoryUrl: string;
  /** The leaf's notAfter, ISO 8601; absent until the chain is kept. */
  notAfter?: string;
  /** When it was kept, ISO 8601. */
  keptAt: string;
  /** The order's URL (RFC 8555 §7.1.3); present on entries written before finalization. */
  orderUrl?: string;
  /** Full chain, leaf first (PEM); absent while only the order is recorded. */
  certificatePem?: string;
  /** The certificate's private key (PEM). Never logged. */
  privateKeyPem: string;
}

/** The data key of a kept certificate. */
export function keptKey(namespace: string, secretName: string): string {
  return `${statusKey(namespace, secretName)}.json`;
}

/** Encodes one kept certificate as a Secret data value (base64, as Secret `data` wants). */
export function encodeKept(kept: KeptCertificate): { key: string; value: string } {
  return {
    key: keptKey(kept.namespace, kept.secretName),
    value: Buffer.from(JSON.stringify(kept)).toString('base64'),
  };
}

/**
 * Reads the kept-certificates Secret's `data` (base64 values). Never throws: unreadable entries
 * are skipped and their keys returned in `malformed`.
 */
export function decodeKept(data: Record<string, string> | undefined): {
  entries: KeptCertificate[];
  malformed: string[];
} {
  const entries: KeptCertificate[] = [];
  const malformed: string[] = [];
  for (const [key, value] of Object.entries(data ?? {})) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    } catch {
      malformed.push(key);
      continue;
    }
    if (isKept(parsed) && key === keptKey(parsed.namespace, parsed.secretName))
      entries.push(parsed);
    else malformed.push(key);
  }
  return { entries, malformed };
}

function isKept(value: unknown): value is KeptCertificate {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    ['namespace', 'secretName', 'keyType', 'directoryUrl', 'keptAt'].every(
      (k) => typeof v[k] === 'string',
    ) &&
    ['notAfter', 'orderUrl', 'certificatePem'].every(
      (k) => v[k] === undefined || typeof v[k] === 'string',
    ) &&
    // A chain comes with its notAfter; without a chain the order must be known.
    (typeof v.certificatePem === 'string'
      ? typeof v.notAfter === 'string'
      : typeof v.orderUrl === 'string') &&
    typeof v.privateKeyPem === 'string' &&
    Array.isArray(v.hosts) &&
    v.hosts.every((h) => typeof h === 'string')
  );
}

/** What a certificate wanted now may take from the kept store. */
export interface WantedCertificate {
  namespace: string;
  secretName: string;
  hosts: readonly string[];
  keyType: string;
  rsaKeySize: number;
  directoryUrl: string;
}

/**
 * What to do with a kept entry for a certificate wanted now (pure):
 * - `install`: it holds a chain for the same Secret, exactly the same hosts, the same key type
 *   (and RSA size) and directory, still valid at `now`;
 * - `download`: it holds only its order (written before finalization), with the same hosts, key
 *   type and directory: the next step is to fetch that order's certificate;
 * - `drop`: it can no longer serve (hosts, key type or directory changed, or the chain expired),
 *   with a message saying why; ordinary ordering applies.
 * Never throws; `wanted` must name the entry's Secret.
 */
export function keptUse(
  kept: KeptCertificate,
  wanted: WantedCertificate,
  now: Date,
): { use: 'install' | 'download' } | { use: 'drop'; message: string } {
  const drop = (message: string) => ({ use: 'drop' as const, message });
  if ([...kept.hosts].sort().join(',') !== [...wanted.hosts].sort().join(','))
    return drop(
      `it names ${kept.hosts.join(', ')}, the Secret now wants ${wanted.hosts.join(', ')}`,
    );
  if (
    kept.keyType !== wanted.keyType ||
    (wanted.keyType === 'rsa' && kept.rsaKeySize !== wanted.rsaKeySize)
  )
    return drop('its key type is not the one LEGO_KEY_TYPE / LEGO_RSA_KEYSIZE ask for now');
  if (kept.directoryUrl !== wanted.directoryUrl)
    return drop(`it was ordered from ${kept.directoryUrl}, LEGO_URL is now ${wanted.directoryUrl}`);
  if (kept.certificatePem === undefined) return { use: 'download' };
  if (kept.notAfter === undefined || Date.parse(kept.notAfter) <= now.getTime())
    return drop(`it expired at ${kept.notAfter ?? 'an unknown time'}`);
  return { use: 'install' };
}

/**
 * Whether a kept certificate may be installed for a certificate wanted now: same Secret, exactly
 * the same hosts, the same key type (and RSA size), the same directory, and still valid at `now`.
 */
export function keptMatches(kept: KeptCertificate, wanted: WantedCertificate, now: Date): boolean {
  return (
    kept.namespace === wanted.namespace &&
    kept.secretName === wanted.secretName &&
    keptUse(kept, wanted, now).use === 'install'
  );
}
