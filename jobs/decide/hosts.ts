/**
 * Validation and normalisation of the hosts of one Ingress `spec.tls` entry.
 *
 * An entry is accepted whole or rejected whole: ordering a certificate for only the good names
 * would leave the Ingress serving a certificate that silently misses some of its hosts.
 */
import type { HostsRejectionReason } from './reasons.js';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { canonicalIpAddress, identifierType, isIpv4Mapped } from './ip-address.js';
import { isBadALabel } from './a-label.js';

/** How {@link normalizeHosts} treats hosts that are IP addresses. */
export interface HostOptions {
  /** Accept IP addresses (RFC 8738), in canonical form; otherwise they are `IpAddressHost`. */
  ipAddresses: boolean;
  /** What the `IpAddressHost` message adds: how to enable IP-address certificates. */
  ipAddressHint: string;
}

const NO_IP_ADDRESSES: HostOptions = {
  ipAddresses: false,
  ipAddressHint: 'this job orders certificates for DNS names only here.',
};

/** Let's Encrypt issues at most 100 names per certificate (Let's Encrypt "Rate Limits"). */
export const MAX_HOSTS_PER_CERTIFICATE = 100;

/** RFC 5280 Appendix A, `ub-common-name INTEGER ::= 64`: a longer name cannot be the CN. */
export const MAX_COMMON_NAME_LENGTH = 64;

/** RFC 1035 §2.3.4 / RFC 1123 §2.1: a name is at most 253 characters in text form. */
const MAX_NAME_LENGTH = 253;

/** One LDH label: 1–63 letters, digits and hyphens, not starting or ending with a hyphen. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The outcome of {@link normalizeHosts}. */
export type HostsResult =
  | {
      ok: true;
      /** Normalised hosts in the entry's order, duplicates removed (first occurrence kept). */
      hosts: string[];
      /** The first host of at most 64 characters, or `undefined` when every host is longer. */
      commonName: string | undefined;
    }
  | { ok: false; reason: HostsRejectionReason; message: string };

type HostResult =
  { ok: true; host: string } | { ok: false; reason: HostsRejectionReason; message: string };

/**
 * Validates and normalises the `hosts` of one `spec.tls` entry, whose value is untrusted.
 *
 * Each host is trimmed, lower-cased, stripped of one trailing dot (the absolute form of the same
 * name) and converted to its ASCII (punycode) form, the form ACME identifiers use (RFC 8555
 * §7.1.4 requires A-labels). Duplicates are removed keeping the first occurrence, so the entry's
 * order — which picks the Common Name — is preserved.
 *
 * Returns `{ ok: false }` for the whole entry, with a message naming the offending host, when:
 * the hosts are missing, not an array or empty (`NoHosts`); a host is not a string, or not a valid
 * DNS name of at least two labels (`InvalidHost`); a host is a wildcard (`WildcardHost`); a host
 * is an IP address and `options.ipAddresses` is off (`IpAddressHost`, its message ending with
 * `options.ipAddressHint`); or more than {@link MAX_HOSTS_PER_CERTIFICATE} distinct names remain
 * (`TooManyHosts`).
 *
 * With `options.ipAddresses` on, an IPv4 address in dotted decimal or an IPv6 literal (brackets
 * allowed) is kept in canonical form (jobs/decide/ip-address.ts); other numeric spellings that
 * URL parsers read as IPv4 (`0x7f.1`), zone indexes and IPv4-mapped IPv6 are `InvalidHost`. An IP
 * address is never the Common Name (CA/Browser Forum Baseline Requirements §7.1.4.3: a CN must
 * repeat a SAN; Let's Encrypt leaves the subject of IP-address certificates empty).
 * Never throws.
 */
export function normalizeHosts(raw: unknown, options: HostOptions = NO_IP_ADDRESSES): HostsResult {
  if (!Array.isArray(raw) || raw.length === 0) {
    return {
      ok: false,
      reason: 'NoHosts',
      message:
        'The TLS entry lists no hosts; add the names the certificate must cover to spec.tls[].hosts.',
    };
  }
  const items: readonly unknown[] = raw;
  const hosts: string[] = [];
  const seen = new Set<string>();
  for (const [index, item] of items.entries()) {
    const result = normalizeHost(item, index, options);
    if (!result.ok) return result;
    if (seen.has(result.host)) continue;
    seen.add(result.host);
    hosts.push(result.host);
  }
  if (hosts.length > MAX_HOSTS_PER_CERTIFICATE) {
    return {
      ok: false,
      reason: 'TooManyHosts',
      message: `The TLS entry lists ${hosts.length} distinct hosts; Let's Encrypt issues at most ${MAX_HOSTS_PER_CERTIFICATE} names per certificate, so split them over several TLS entries with different Secrets.`,
    };
  }
  return {
    ok: true,
    hosts,
    commonName: hosts.find(
      (host) => host.length <= MAX_COMMON_NAME_LENGTH && identifierType(host) === 'dns',
    ),
  };
}

function normalizeHost(item: unknown, index: number, options: HostOptions): HostResult {
  const position = `Host #${index + 1}`;
  if (typeof item !== 'string') {
    return {
      ok: false,
      reason: 'InvalidHost',
      message: `${position} of the TLS entry is ${describeValue(item)}, not a host name.`,
    };
  }
  const shown = JSON.stringify(item);
  let host = item.trim().toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') {
    return { ok: false, reason: 'InvalidHost', message: `${position} of the TLS entry is empty.` };
  }
  if (host.includes('*')) return wildcard(shown);
  if (isIpAddress(host)) {
    if (!options.ipAddresses) return ipAddress(shown, options);
    const address = canonicalIpAddress(host);
    if (address === undefined || isIpv4Mapped(address)) {
      return {
        ok: false,
        reason: 'InvalidHost',
        message: `Host ${shown} is not an IP address an ACME server takes: write an IPv4 address in dotted decimal or an IPv6 address without a zone index (an IPv4-mapped IPv6 address as its IPv4 address).`,
      };
    }
    return { ok: true, host: address };
  }
  // ASCII outside letters, digits, '-' and '.' is never valid, and must not reach the WHATWG host
  // parser, which would percent-decode it ("%41.example") or cut at a '/' ("a.example/x").
  // Only non-ASCII (internationalised) characters are left to it.
  const asciiSafe = [...host].every((char) => /[a-z0-9.-]/.test(char) || char.charCodeAt(0) > 0x7f);
  // Checked before the host parser, which passes a bad `xn--` label through on Node 22 and later.
  const badLabel = asciiSafe ? host.split('.').find(isBadALabel) : undefined;
  if (badLabel !== undefined) {
    return {
      ok: false,
      reason: 'InvalidHost',
      message: `Host ${shown} is not a valid DNS name: its label "${badLabel}" starts with "xn--" but is not valid Punycode for an internationalised name (RFC 5891 §5.4).`,
    };
  }
  // WHATWG/UTS #46 processing: maps Unicode to punycode and returns '' for names it rejects.
  const ascii = asciiSafe ? domainToASCII(host) : '';
  // UTS #46 maps some characters to '*' (e.g. the full-width asterisk).
  if (ascii.includes('*')) return wildcard(shown);
  // The WHATWG host parser reads some names as IPv4 numbers ("0x7f.1" becomes "127.0.0.1").
  if (isIpAddress(ascii)) {
    if (!options.ipAddresses) return ipAddress(shown, options);
    return {
      ok: false,
      reason: 'InvalidHost',
      message: `Host ${shown} reads as the IP address ${ascii} only in URL syntax; write the address in dotted decimal.`,
    };
  }
  if (ascii === '' || !isDnsName(ascii)) {
    return {
      ok: false,
      reason: 'InvalidHost',
      message: `Host ${shown} is not a valid DNS name: it needs at least two labels of 1 to 63 letters, digits or hyphens (not at either end of a label) and at most ${MAX_NAME_LENGTH} characters.`,
    };
  }
  return { ok: true, host: ascii };
}

function wildcard(shown: string): HostResult {
  // HTTP-01 proves control of one host name only; the ACME server never offers it for a
  // wildcard (RFC 8555 §8.3; Let's Encrypt "Challenge Types": wildcards need DNS-01).
  return {
    ok: false,
    reason: 'WildcardHost',
    message: `Host ${shown} is a wildcard; wildcard certificates need the DNS-01 challenge, and this job uses HTTP-01. List each name explicitly.`,
  };
}

function ipAddress(shown: string, options: HostOptions): HostResult {
  return {
    ok: false,
    reason: 'IpAddressHost',
    message: `Host ${shown} is an IP address; ${options.ipAddressHint}`,
  };
}

/** `isIP` is pure string parsing: it does no I/O. Brackets are how URLs write IPv6. */
function isIpAddress(host: string): boolean {
  return isIP(host) !== 0 || isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

function isDnsName(host: string): boolean {
  if (host.length > MAX_NAME_LENGTH) return false;
  const labels = host.split('.');
  return labels.length >= 2 && labels.every((label) => LABEL.test(label));
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean')
    return `the ${typeof value} ${String(value)}`;
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}
