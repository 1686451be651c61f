/**
 * The stored form of what parsing a certificate Secret found: kept in that certificate's status
 * entry (shared/status-entries.ts, field `secretFacts`) so that the next run, finding the Secret
 * unchanged, decides from these facts without parsing a PEM again (cert-manager keeps what it
 * learnt of a Secret in the Certificate's status the same way). A no-op run over thousands of
 * certificates then costs list calls and date comparisons, not thousands of key parses.
 *
 * Format (JSON): `{ resourceVersion, certificateHash, notBefore, notAfter, dnsNames,
 * ipAddresses, serialNumber, issuer, key, chainLength, selfSigned, certificateId?, privateKey,
 * keyCertificateIndex }`. Times are ISO 8601; `key` and `privateKey` are key descriptions as the
 * job prints them (`RSA 2048`, `ECDSA P-256`). Only a Secret whose certificate chain and private
 * key both parsed is recorded; anything else is parsed again on every run.
 *
 * The Secret is the same one when both its `resourceVersion` (which the API server changes on
 * every write of the object) and the hash of its `tls.crt` are. The hash covers the certificate
 * only — public data; nothing derived from the private key is ever written to the ConfigMap,
 * which more people may read than the Secret — and guards against a `resourceVersion` that
 * repeats after the cluster's store was restored from a backup.
 */
import { createHash } from 'node:crypto';

/** What a run learnt by parsing one Secret. */
export interface SecretFactsRecord {
  /** The Secret's `metadata.resourceVersion` when it was parsed. */
  resourceVersion: string;
  /** {@link certificateHash} of its `tls.crt` when it was parsed. */
  certificateHash: string;
  /** The leaf's validity, ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** The leaf's DNS subjectAltNames, lower-cased, de-duplicated and sorted. */
  dnsNames: string[];
  /**
   * The leaf's IP address subjectAltNames (RFC 8738), canonical (jobs/decide/ip-address.ts) and
   * sorted; required, so that a record written before IP-address certificates existed is parsed
   * again rather than read as "no IP addresses".
   */
  ipAddresses: string[];
  /** The leaf's serial number, hexadecimal as node:crypto prints it. */
  serialNumber: string;
  /** The leaf's issuer name, as node:crypto prints it. */
  issuer: string;
  /** The leaf's public key, as `RSA 2048` or `ECDSA P-256`. */
  key: string;
  /** How many certificates `tls.crt` holds. */
  chainLength: number;
  /** Whether the leaf is self-signed. */
  selfSigned: boolean;
  /** The leaf's ARI identifier (RFC 9773 §4.1); absent when it has none. */
  certificateId?: string;
  /** The private key of `tls.key`, as `RSA 2048` or `ECDSA P-256`. */
  privateKey: string;
  /**
   * Which certificate of `tls.crt` the private key belongs to: its index (0 is the leaf), or -1
   * when it belongs to none.
   */
  keyCertificateIndex: number;
}

/**
 * The hash recorded for a certificate chain: SHA-256 of its text, base64url, first 16
 * characters (96 bits: enough to tell a changed certificate, short enough for 5,000 entries).
 */
export function certificateHash(pem: string): string {
  return createHash('sha256').update(pem).digest('base64url').slice(0, 16);
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Reads a stored record. Never throws: returns `undefined` for anything that is not a complete
 * record (then the Secret is simply parsed again).
 */
export function decodeSecretFacts(value: unknown): SecretFactsRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const text = (x: unknown): x is string => typeof x === 'string';
  const time = (x: unknown): x is string => text(x) && ISO_TIME.test(x);
  const whole = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
  if (
    !text(v.resourceVersion) ||
    v.resourceVersion === '' ||
    !text(v.certificateHash) ||
    !time(v.notBefore) ||
    !time(v.notAfter) ||
    !Array.isArray(v.dnsNames) ||
    !v.dnsNames.every(text) ||
    !Array.isArray(v.ipAddresses) ||
    !v.ipAddresses.every(text) ||
    !text(v.serialNumber) ||
    !text(v.issuer) ||
    !text(v.key) ||
    !whole(v.chainLength) ||
    v.chainLength < 1 ||
    typeof v.selfSigned !== 'boolean' ||
    (v.certificateId !== undefined && !text(v.certificateId)) ||
    !text(v.privateKey) ||
    !whole(v.keyCertificateIndex) ||
    v.keyCertificateIndex < -1 ||
    v.keyCertificateIndex >= v.chainLength
  )
    return undefined;
  return {
    resourceVersion: v.resourceVersion,
    certificateHash: v.certificateHash,
    notBefore: v.notBefore,
    notAfter: v.notAfter,
    dnsNames: [...v.dnsNames],
    ipAddresses: [...v.ipAddresses],
    serialNumber: v.serialNumber,
    issuer: v.issuer,
    key: v.key,
    chainLength: v.chainLength,
    selfSigned: v.selfSigned,
    ...(text(v.certificateId) ? { certificateId: v.certificateId } : {}),
    privateKey: v.privateKey,
    keyCertificateIndex: v.keyCertificateIndex,
  };
}
