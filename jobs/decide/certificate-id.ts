/**
 * The ACME Renewal Information certificate identifier (RFC 9773 §4.1): the base64url (no
 * padding) keyIdentifier of the certificate's Authority Key Identifier extension, a ".", and the
 * base64url DER contents of its serial number. Pure; never throws.
 *
 * The serial is taken from the DER INTEGER as it is encoded, leading zero byte included (a
 * serial whose first byte is 0x80 or more carries one so it stays positive, RFC 5280 §4.1.2.2):
 * node:crypto's hexadecimal `serialNumber` drops it, and an ID without it names another
 * certificate.
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/** OID of the Authority Key Identifier extension (RFC 5280 §4.2.1.1). */
const AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

/**
 * The certificate's ARI identifier, or `undefined` when it has no Authority Key Identifier with
 * a keyIdentifier (then it cannot be named to the renewalInfo endpoint, RFC 9773 §4.1) or its
 * DER cannot be read.
 */
export function certificateId(certificate: X509Certificate): string | undefined {
  try {
    return certificateIdFromDer(certificate.raw);
  } catch {
    return undefined;
  }
}

/** {@link certificateId} from the DER bytes of a certificate; throws when they cannot be read. */
function certificateIdFromDer(der: Buffer): string | undefined {
  const root = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const tbs = children(root)[0];
  if (tbs === undefined) return undefined;
  const fields = children(tbs);
  // TBSCertificate: [0] version (optional, explicit), serialNumber INTEGER, ... (RFC 5280 §4.1).
  const first = fields[0];
  const hasVersion = first !== undefined && isContext(first, 0);
  const serial = fields[hasVersion ? 1 : 0];
  if (serial === undefined || typeof serial.value !== 'string' || serial.value.length === 0)
    return undefined;
  const extensions = fields.find((f) => isContext(f, 3));
  const keyIdentifier = extensions === undefined ? undefined : authorityKeyId(extensions);
  if (keyIdentifier === undefined || keyIdentifier.length === 0) return undefined;
  return `${base64url(keyIdentifier)}.${base64url(serial.value)}`;
}

/** The keyIdentifier of the Authority Key Identifier inside the `[3] Extensions` field. */
function authorityKeyId(extensionsField: forge.asn1.Asn1): string | undefined {
  const list = children(extensionsField)[0];
  if (list === undefined) return undefined;
  for (const extension of children(list)) {
    const parts = children(extension);
    const oid = parts[0];
    if (oid === undefined || typeof oid.value !== 'string') continue;
    if (forge.asn1.derToOid(forge.util.createBuffer(oid.value)) !== AUTHORITY_KEY_IDENTIFIER)
      continue;
    // extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING.
    const value = parts[parts.length - 1];
    if (value === undefined || typeof value.value !== 'string') return undefined;
    const aki = forge.asn1.fromDer(forge.util.createBuffer(value.value));
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
    const keyIdentifier = children(aki).find((c) => isContext(c, 0));
    return typeof keyIdentifier?.value === 'string' ? keyIdentifier.value : undefined;
  }
  return undefined;
}

/** Whether a node is the context-specific tag `[tag]`. */
function isContext(node: forge.asn1.Asn1, tag: number): boolean {
  return (
    (node.tagClass as number) === (forge.asn1.Class.CONTEXT_SPECIFIC as number) &&
    (node.type as number) === tag
  );
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  return Array.isArray(node.value) ? node.value : [];
}

/** base64url without padding (RFC 4648 §5) of a forge binary string. */
function base64url(binary: string): string {
  return Buffer.from(binary, 'binary').toString('base64url');
}

/**
 * {@link certificateId} of the first certificate of a PEM chain (the leaf, RFC 8555 §9.1);
 * `undefined` when there is none that can be read.
 */
export function leafCertificateId(chainPem: string): string | undefined {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chainPem);
  if (first === null) return undefined;
  try {
    return certificateId(new X509Certificate(first[0]));
  } catch {
    return undefined;
  }
}
