/**
 * Whether an `xn--` label is a valid A-label: Punycode (RFC 3492) that decodes, to a U-label
 * whose own ASCII form is the label again (RFC 5891 §5.4 and RFC 5890 §2.3.2.1: an A-label is
 * the canonical encoding of a valid U-label).
 *
 * Why not leave it to `url.domainToASCII`: Node 20 returns '' for an `xn--` label that is not
 * valid Punycode, but Node 22 and later (the ada URL parser's UTS #46 processing) pass such a
 * label through unchanged ("xn--zz.example" stays "xn--zz.example"). The job would then order a
 * certificate the ACME server refuses (RFC 8555 §7.1.4 wants valid A-labels; Let's Encrypt
 * answers `rejectedIdentifier`). This check gives the same answer on every Node.
 */
import { domainToASCII } from 'node:url';

// RFC 3492 §5, the parameters of Punycode as IDNA uses it.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
const MAX_CODE_POINT = 0x10ffff;

/** RFC 3492 §6.1. */
function adapt(delta: number, points: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / points);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

/** The value of one Punycode digit (a–z 0–25, 0–9 26–35), or undefined. */
function digit(char: string): number | undefined {
  const code = char.charCodeAt(0);
  if (code >= 0x61 && code <= 0x7a) return code - 0x61;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 26;
  return undefined;
}

/**
 * RFC 3492 §6.2: decodes the part of a label after `xn--` (lower-case ASCII). Returns the
 * Unicode string, or `undefined` when the input is not valid Punycode (a bad digit, an overflow,
 * a code point out of range, or a truncated number).
 */
export function decodePunycode(input: string): string | undefined {
  const delimiter = input.lastIndexOf('-');
  const output: number[] = [];
  for (const char of delimiter > 0 ? input.slice(0, delimiter) : '') {
    if (char.charCodeAt(0) >= 0x80) return undefined;
    output.push(char.charCodeAt(0));
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  let position = delimiter > 0 ? delimiter + 1 : 0;
  while (position < input.length) {
    const oldI = i;
    let weight = 1;
    for (let k = BASE; ; k += BASE) {
      if (position >= input.length) return undefined;
      const value = digit(input.charAt(position++));
      if (value === undefined) return undefined;
      i += value * weight;
      if (i > Number.MAX_SAFE_INTEGER) return undefined;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (value < t) break;
      weight *= BASE - t;
    }
    const points = output.length + 1;
    bias = adapt(i - oldI, points, oldI === 0);
    n += Math.floor(i / points);
    i %= points;
    if (n > MAX_CODE_POINT || (n >= 0xd800 && n <= 0xdfff)) return undefined;
    output.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...output);
}

/**
 * True when `label` (lower-case) is an `xn--` label that is not a valid A-label; false for any
 * other label, valid A-labels included.
 */
export function isBadALabel(label: string): boolean {
  if (!label.startsWith('xn--')) return false;
  const unicode = decodePunycode(label.slice(4));
  // An A-label encodes at least one non-ASCII character (RFC 5890 §2.3.2.1).
  if (unicode === undefined || [...unicode].every((char) => char.charCodeAt(0) < 0x80)) {
    return true;
  }
  // The round trip: the U-label must be valid IDNA and encode back to the same label.
  return domainToASCII(`${unicode}.example`) !== `${label}.example`;
}
