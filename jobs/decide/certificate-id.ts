/**
 * The ACME Renewal Information certificate identifier (RFC 9773 §4.1): the base64url (no
 * padding) keyIdentifier of the certificate's Authority Key Identifier extension, a ".", and the
 * base64url DER contents of its serial number. Pure; never throws.
 *
 * The serial is taken from the DER INTEGER as it is encoded, leading zero byte included (a
 * serial whose first byte is 0x80 or more carries one so it stays positive, RFC 5280 §4.1.2.2):
 * node:crypto's hexadecimal `serialNumber` drops it, and an ID without it names another
 * certificate. The few DER elements needed are read here directly (tag, length, contents), so
 * deciding loads no ASN.1 library.
 */
import { X509Certificate } from 'node:crypto';

/** DER contents of the Authority Key Identifier's OID, 2.5.29.35 (RFC 5280 §4.2.1.1). */
const AUTHORITY_KEY_IDENTIFIER = Buffer.from([0x55, 0x1d, 0x23]);
const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OID = 0x06;
const OCTET_STRING = 0x04;
/** [0] EXPLICIT version, [3] EXPLICIT extensions (constructed), [0] IMPLICIT keyIdentifier. */
const VERSION = 0xa0;
const EXTENSIONS = 0xa3;
const KEY_IDENTIFIER = 0x80;

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

interface Element {
  tag: number;
  contents: Buffer;
}

/** {@link certificateId} from DER; throws a RangeError on truncated input. */
function certificateIdFromDer(der: Buffer): string | undefined {
  const certificate = only(der, SEQUENCE);
  const tbs = children(certificate.contents)[0];
  if (tbs?.tag !== SEQUENCE) return undefined;
  // TBSCertificate: [0] version (optional), serialNumber INTEGER, …, [3] extensions (RFC 5280 §4.1).
  const fields = children(tbs.contents);
  const serial = fields[fields[0]?.tag === VERSION ? 1 : 0];
  if (serial?.tag !== INTEGER || serial.contents.length === 0) return undefined;
  const extensions = fields.find((f) => f.tag === EXTENSIONS);
  if (extensions === undefined) return undefined;
  const keyIdentifier = authorityKeyId(only(extensions.contents, SEQUENCE).contents);
  if (keyIdentifier === undefined || keyIdentifier.length === 0) return undefined;
  return `${keyIdentifier.toString('base64url')}.${serial.contents.toString('base64url')}`;
}

/** The keyIdentifier of the Authority Key Identifier among the Extensions' contents. */
function authorityKeyId(extensions: Buffer): Buffer | undefined {
  for (const extension of children(extensions)) {
    // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    const parts = children(extension.contents);
    const id = parts[0];
    if (id?.tag !== OID || !id.contents.equals(AUTHORITY_KEY_IDENTIFIER)) continue;
    const value = parts[parts.length - 1];
    if (value?.tag !== OCTET_STRING) return undefined;
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … }
    const aki = only(value.contents, SEQUENCE);
    return children(aki.contents).find((c) => c.tag === KEY_IDENTIFIER)?.contents;
  }
  return undefined;
}

/** The one element `bytes` holds, which must have `tag`. */
function only(bytes: Buffer, tag: number): Element {
  const [element, next] = read(bytes, 0);
  if (element.tag !== tag || next !== bytes.length) throw new RangeError('unexpected DER');
  return element;
}

/** The elements one after another in `bytes`. */
function children(bytes: Buffer): Element[] {
  const elements: Element[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const [element, next] = read(bytes, offset);
    elements.push(element);
    offset = next;
  }
  return elements;
}

/** One DER element at `offset` (low tag numbers only, as X.509 uses) and the offset after it. */
function read(bytes: Buffer, offset: number): [Element, number] {
  const tag = byteAt(bytes, offset);
  let length = byteAt(bytes, offset + 1);
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + byteAt(bytes, start + i);
    start += count;
  }
  if (start + length > bytes.length) throw new RangeError('truncated DER');
  return [{ tag, contents: bytes.subarray(start, start + length) }, start + length];
}

function byteAt(bytes: Buffer, index: number): number {
  const value = bytes[index];
  if (value === undefined) throw new RangeError('truncated DER');
  return value;
}
