/**
 * Reading a `kubernetes.io/tls` Secret's certificate and key: pure parsing with node:crypto, which
 * handles RSA and EC alike, once per Secret and run — or not at all when an earlier run recorded
 * what the same Secret holds (shared/secret-facts.ts). Nothing here throws; what cannot be read
 * is `undefined`.
 */
import { createPublicKey, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { describeKey, formatKey, parseKeyDescription, type KeyDescription } from '../key-type.js';
import { certificateHash, type SecretFactsRecord } from '../../shared/secret-facts.js';
import { certificateId } from './certificate-id.js';
import { canonicalIpAddress } from './ip-address.js';
import type { SecretView } from '../model.js';
import { readSecretText, TLS_CERTIFICATE_KEY, TLS_PRIVATE_KEY_KEY } from '../tls-secret.js';

/** What the run needs to know about a stored certificate (its leaf). */
export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  /** The leaf's DNS subjectAltNames, lower-cased, de-duplicated and sorted. */
  dnsNames: string[];
  /**
   * The leaf's IP address subjectAltNames (RFC 8738), canonical (jobs/decide/ip-address.ts) and
   * sorted; absent where the facts do not come from parsing a certificate, which counts as none.
   */
  ipAddresses?: string[];
  /** Hexadecimal, as node:crypto prints it. */
  serialNumber: string;
  /** The issuer's distinguished name, one attribute per line, as node:crypto prints it. */
  issuer: string;
  /** The leaf's public key. */
  key: KeyDescription;
  /** How many certificates `tls.crt` holds (leaf plus intermediates). */
  chainLength: number;
  /**
   * Whether the leaf is self-signed ({@link isSelfSigned}); absent where the facts do not come
   * from parsing the certificate, which counts as not self-signed.
   */
  selfSigned?: boolean;
  /**
   * The leaf's ACME Renewal Information identifier (RFC 9773 §4.1, jobs/decide/certificate-id.ts);
   * `undefined` when it has no Authority Key Identifier.
   */
  certificateId?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Parses a PEM certificate chain. The first certificate is the leaf (RFC 8555 §9.1: the
 * chain starts with the end-entity certificate; `kubernetes.io/tls` keeps that order).
 * Returns `undefined` when the text holds no PEM certificate, when any of them cannot be parsed,
 * or when the leaf's validity dates cannot be read.
 */
export function parseCertificateChain(pem: string): X509Certificate[] | undefined {
  const blocks = pem.match(PEM_CERTIFICATE);
  if (blocks === null) return undefined;
  const chain: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      chain.push(new X509Certificate(block));
    } catch {
      return undefined;
    }
  }
  const leaf = chain[0];
  if (leaf === undefined || validity(leaf) === undefined) return undefined;
  return chain;
}

/**
 * Parses an unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1). Returns `undefined` when it
 * cannot be parsed.
 */
export function parsePrivateKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

/**
 * Whether a certificate is self-signed: its issuer name equals its subject name and its
 * signature verifies with its own public key (RFC 5280 §3.2, §6.1: a self-signed certificate is
 * self-issued and signed by the key it certifies). A certificate from a CA fails the first test
 * (the issuer is the CA's name) and, were the names equal, the second. `false` when the
 * signature cannot be checked at all.
 */
export function isSelfSigned(certificate: X509Certificate): boolean {
  if (certificate.issuer !== certificate.subject) return false;
  try {
    return certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

/** The validity period of a certificate, or `undefined` when its dates cannot be read. */
export function validity(
  certificate: X509Certificate,
): { notBefore: Date; notAfter: Date } | undefined {
  // Node 20's X509Certificate has only the text form ("Jan  1 00:00:00 2025 GMT").
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
  return { notBefore, notAfter };
}

/**
 * The DNS names of a certificate's subjectAltName extension, lower-cased, de-duplicated and
 * sorted; other name types (IP addresses, e-mail) are left out. Empty when there is no SAN.
 */
export function readDnsNames(certificate: X509Certificate): string[] {
  const names = new Set<string>();
  for (const entry of splitSubjectAltName(certificate.subjectAltName ?? '')) {
    if (!entry.startsWith('DNS:')) continue;
    const value = unquote(entry.slice('DNS:'.length));
    if (value !== undefined) names.add(value.toLowerCase());
  }
  return [...names].sort();
}

/**
 * The IP addresses of a certificate's subjectAltName extension, in canonical form
 * (jobs/decide/ip-address.ts: node:crypto prints IPv6 uncompressed and upper-case,
 * "IP Address:2001:DB8:0:0:0:0:0:1"), de-duplicated and sorted. Empty when there is none.
 */
export function readIpAddresses(certificate: X509Certificate): string[] {
  const addresses = new Set<string>();
  for (const entry of splitSubjectAltName(certificate.subjectAltName ?? '')) {
    if (!entry.startsWith('IP Address:')) continue;
    const address = canonicalIpAddress(entry.slice('IP Address:'.length));
    if (address !== undefined) addresses.add(address);
  }
  return [...addresses].sort();
}

/**
 * Every name a certificate covers, as the job writes hosts: its DNS names
 * ({@link readDnsNames}) and IP addresses ({@link readIpAddresses}), sorted.
 */
export function readSubjectAltNames(certificate: X509Certificate): string[] {
  return [...readDnsNames(certificate), ...readIpAddresses(certificate)].sort();
}

/** The names of {@link CertificateFacts}: DNS names and IP addresses, sorted. */
export function coveredNames(facts: CertificateFacts): string[] {
  return [...facts.dnsNames, ...(facts.ipAddresses ?? [])].sort();
}

/**
 * A Secret read once (cert-manager's `Input`): what the checks compare, each `undefined` when
 * absent or unparseable. The checks compare these and never parse: the PEMs are parsed once, by
 * {@link parseSecret}, or not at all when an earlier run recorded the facts of the same Secret
 * ({@link readSecretFacts}).
 */
export interface ParsedSecret {
  view: SecretView;
  /** Whether `tls.crt` holds anything but whitespace. */
  hasCertificate: boolean;
  /** Whether `tls.key` holds anything but whitespace. */
  hasPrivateKey: boolean;
  /**
   * {@link certificateHash} of `tls.crt`, for the record a parsed Secret leaves
   * ({@link recordSecretFacts}); absent when `tls.crt` is, and when the facts were recorded.
   */
  certificateHash?: string;
  /**
   * How many certificates `tls.crt` holds; `undefined` when it is absent or not a parseable chain
   * ({@link parseCertificateChain}).
   */
  chainLength: number | undefined;
  /** The private key's type and size; `undefined` when `tls.key` is absent or unparseable. */
  privateKey: KeyDescription | undefined;
  /**
   * Which certificate of the chain the private key belongs to (both public keys exported as SPKI
   * DER are identical; RSA and EC alike): its index, 0 for the leaf, -1 for none; `undefined`
   * when the chain or the key cannot be read.
   */
  keyCertificateIndex: number | undefined;
  /** Facts of the leaf; `undefined` exactly when `chainLength` is. */
  facts: CertificateFacts | undefined;
  /** `parsed` in this run, or `recorded` by an earlier run for the same Secret. */
  source: 'parsed' | 'recorded';
  /** The record these facts were read from, when `source` is `recorded`. */
  recorded?: SecretFactsRecord;
}

/**
 * Parses a Secret's `tls.crt` and `tls.key`, each once: every certificate of the chain, the
 * private key, and each public key exported at most once to compare them. Never throws.
 */
export function parseSecret(secret: SecretView): ParsedSecret {
  // A view gathered without its PEMs has only its record to be read from.
  if (secret.recorded !== undefined) return fromRecord(secret, secret.recorded);
  const certificatePem = readSecretText(secret, TLS_CERTIFICATE_KEY);
  const privateKeyPem = readSecretText(secret, TLS_PRIVATE_KEY_KEY);
  const chain = certificatePem === undefined ? undefined : parseCertificateChain(certificatePem);
  const privateKey = privateKeyPem === undefined ? undefined : parsePrivateKey(privateKeyPem);
  const leaf = chain?.[0];
  const dates = leaf === undefined ? undefined : validity(leaf);
  return {
    view: secret,
    hasCertificate: certificatePem !== undefined,
    hasPrivateKey: privateKeyPem !== undefined,
    ...(certificatePem === undefined ? {} : { certificateHash: certificateHash(certificatePem) }),
    chainLength: chain?.length,
    privateKey: privateKey === undefined ? undefined : describeKey(privateKey),
    keyCertificateIndex:
      chain === undefined || privateKey === undefined
        ? undefined
        : keyCertificateIndex(chain, privateKey),
    facts:
      chain === undefined || leaf === undefined || dates === undefined
        ? undefined
        : {
            ...dates,
            dnsNames: readDnsNames(leaf),
            ipAddresses: readIpAddresses(leaf),
            serialNumber: leaf.serialNumber,
            issuer: leaf.issuer,
            key: describeKey(leaf.publicKey),
            chainLength: chain.length,
            selfSigned: isSelfSigned(leaf),
            ...optionalId(certificateId(leaf)),
          },
    source: 'parsed',
  };
}

/**
 * The index of the first certificate of `chain` whose public key is `privateKey`'s, or -1. The
 * private key's public part is derived and exported once, not once per certificate.
 */
function keyCertificateIndex(chain: readonly X509Certificate[], privateKey: KeyObject): number {
  let actual: Buffer;
  try {
    actual = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  } catch {
    return -1;
  }
  return chain.findIndex((certificate) => {
    try {
      return certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(actual);
    } catch {
      return false;
    }
  });
}

/**
 * What to record of a Secret read in this run (shared/secret-facts.ts), so that the next run
 * need not parse it while it is unchanged: only a Secret whose chain and key both parsed has a
 * record (`undefined` otherwise).
 */
export function recordSecretFacts(parsed: ParsedSecret): SecretFactsRecord | undefined {
  if (parsed.recorded !== undefined) return parsed.recorded;
  const { facts, privateKey, keyCertificateIndex: index, certificateHash: hash } = parsed;
  if (
    facts === undefined ||
    privateKey === undefined ||
    index === undefined ||
    hash === undefined ||
    parsed.view.resourceVersion === ''
  )
    return undefined;
  return {
    resourceVersion: parsed.view.resourceVersion,
    certificateHash: hash,
    notBefore: facts.notBefore.toISOString(),
    notAfter: facts.notAfter.toISOString(),
    dnsNames: facts.dnsNames,
    ipAddresses: facts.ipAddresses ?? [],
    serialNumber: facts.serialNumber,
    issuer: facts.issuer,
    key: formatKey(facts.key),
    chainLength: facts.chainLength,
    selfSigned: facts.selfSigned === true,
    ...optionalId(facts.certificateId),
    privateKey: formatKey(privateKey),
    keyCertificateIndex: index,
  };
}

/**
 * Whether `record` describes this very Secret: the same `resourceVersion` (the API server changes
 * it on every write) and the same `tls.crt` (its hash: a `resourceVersion` can repeat after the
 * cluster's store is restored from a backup). The one test both {@link readSecretFacts} and the
 * gather step, which then keeps no PEM of the Secret (SecretView `recorded`), apply. Both PEMs
 * must be there (`undefined`: absent or only whitespace), as when the record was made.
 */
export function recordDescribes(
  record: SecretFactsRecord,
  resourceVersion: string,
  certificatePem: string | undefined,
  privateKeyPem: string | undefined,
): boolean {
  return (
    record.resourceVersion === resourceVersion &&
    certificatePem !== undefined &&
    privateKeyPem !== undefined &&
    certificateHash(certificatePem) === record.certificateHash
  );
}

/**
 * Reads a Secret: from `recorded` (an earlier run's {@link recordSecretFacts}) without parsing
 * anything when it is about this very Secret ({@link recordDescribes}), else by
 * {@link parseSecret}. A view the gather step found to be the recorded Secret, and so
 * holds no PEM, is read from its own record. Both give the same checks the same answers. Never
 * throws.
 */
export function readSecretFacts(
  secret: SecretView,
  recorded: SecretFactsRecord | undefined,
): ParsedSecret {
  if (secret.recorded !== undefined) return fromRecord(secret, secret.recorded);
  if (
    recorded === undefined ||
    !recordDescribes(
      recorded,
      secret.resourceVersion,
      readSecretText(secret, TLS_CERTIFICATE_KEY),
      readSecretText(secret, TLS_PRIVATE_KEY_KEY),
    )
  )
    return parseSecret(secret);
  return fromRecord(secret, recorded);
}

/** The facts of a Secret that `recorded` describes, which holds a certificate and a key. */
function fromRecord(secret: SecretView, recorded: SecretFactsRecord): ParsedSecret {
  return {
    view: secret,
    hasCertificate: true,
    hasPrivateKey: true,
    chainLength: recorded.chainLength,
    privateKey: parseKeyDescription(recorded.privateKey),
    keyCertificateIndex: recorded.keyCertificateIndex,
    facts: {
      notBefore: new Date(recorded.notBefore),
      notAfter: new Date(recorded.notAfter),
      dnsNames: recorded.dnsNames,
      ipAddresses: recorded.ipAddresses,
      serialNumber: recorded.serialNumber,
      issuer: recorded.issuer,
      key: parseKeyDescription(recorded.key),
      chainLength: recorded.chainLength,
      selfSigned: recorded.selfSigned,
      ...optionalId(recorded.certificateId),
    },
    source: 'recorded',
    recorded,
  };
}

function optionalId(id: string | undefined): { certificateId?: string } {
  return id === undefined ? {} : { certificateId: id };
}

/**
 * Facts about the certificate stored in a Secret (its leaf), for status and logs. Returns
 * `undefined` when there is no Secret or `tls.crt` is missing or unparseable.
 */
export function readCertificateFacts(secret: SecretView | undefined): CertificateFacts | undefined {
  return secret === undefined ? undefined : parseSecret(secret).facts;
}

/**
 * Splits node:crypto's subjectAltName text ("DNS:a, DNS:b") into entries. Since the fix for
 * CVE-2021-44532, Node quotes values that contain separators as JSON strings, so a comma inside
 * quotes does not split.
 */
function splitSubjectAltName(text: string): string[] {
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (quoted) {
      current += char;
      if (char === '\\') {
        current += text.charAt(i + 1);
        i++;
      } else if (char === '"') {
        quoted = false;
      }
    } else if (char === '"') {
      quoted = true;
      current += char;
    } else if (char === ',' && text.charAt(i + 1) === ' ') {
      entries.push(current);
      current = '';
      i++;
    } else {
      current += char;
    }
  }
  if (current !== '') entries.push(current);
  return entries;
}

function unquote(value: string): string | undefined {
  if (!value.startsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
