/**
 * IP addresses as certificate identifiers (RFC 8738): recognising them in a host list and writing
 * them in one canonical text form, so that the order, the CSR, the challenge entries and the
 * comparison with a stored certificate's subjectAltNames all use the same string. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The ACME identifier types this job orders (RFC 8555 §9.7.7, RFC 8738 §3). */
export type IdentifierType = 'dns' | 'ip';

/**
 * The canonical text of an IP address, or `undefined` when `text` is not one.
 *
 * - IPv4: dotted decimal with four parts and no leading zeros (`isIPv4` refuses `01.2.3.4`, which
 *   some parsers read as octal), as RFC 8738 §3 asks ("the textual form of the address as
 *   defined in RFC 1123 §2.1").
 * - IPv6: with or without URL brackets, written as RFC 5952 §4 recommends (lower case, the
 *   longest run of zero groups compressed), which is also RFC 8738 §3's form. A zone index
 *   (`fe80::1%eth0`) is refused: it means nothing outside the host.
 *
 * Never throws; does no I/O (`isIPv4`/`isIPv6` and the WHATWG URL parser are string parsing).
 */
export function canonicalIpAddress(text: string): string | undefined {
  const value = text.trim().toLowerCase();
  if (isIPv4(value)) return value;
  const bare = value.replace(/^\[(.*)\]$/, '$1');
  if (!isIPv6(bare) || bare.includes('%')) return undefined;
  // The WHATWG URL serializer writes IPv6 hosts in RFC 5952 form: "[2001:db8::1]".
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * Whether `address` (canonical, {@link canonicalIpAddress}) is an IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2). ACME servers written in Go echo such an identifier as
 * the IPv4 address, so it is refused rather than ordered under a name that would not match.
 */
export function isIpv4Mapped(address: string): boolean {
  return /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(address);
}

/** The identifier type of a normalised host: `ip` for an IP address, `dns` otherwise. */
export function identifierType(host: string): IdentifierType {
  return isIPv4(host) || isIPv6(host) ? 'ip' : 'dns';
}
