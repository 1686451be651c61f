/**
 * Value parsers for settings. Each returns the parsed value or throws {@link InvalidValue}
 * saying what would have been accepted.
 */
import { parseDuration } from '../duration.js';
import { InvalidValue } from './setting.js';

/** Any text, trimmed; empty text allowed. */
export const text = (raw: string): string => raw.trim();

/** Non-empty text. */
export function nonEmpty(raw: string): string {
  const value = raw.trim();
  if (value === '') throw new InvalidValue('a non-empty value');
  return value;
}

/** A Go duration (`30s`, `5m`, `8h`, `720h`), in milliseconds; at least `min` ms. */
export function duration(min = 0): (raw: string) => number {
  return (raw) => {
    const ms = parseDuration(raw);
    if (ms === undefined || ms < min) {
      throw new InvalidValue(
        `a duration in Go syntax such as 30s, 5m, 8h or 720h${min > 0 ? ` of at least ${min}ms` : ''}`,
      );
    }
    return ms;
  };
}

/** A whole number within [min, max]. */
export function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new InvalidValue(`a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

/** A TCP port. */
export const port = integer(1, 65535);

/** One of a fixed set of words, case-insensitive. */
export function oneOf<const T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    const found = choices.find((c) => c === value);
    if (found === undefined) throw new InvalidValue(`one of ${choices.join(', ')}`);
    return found;
  };
}

/** A comma-separated list of words, each one of `choices` when given; empty items dropped. */
export function list(choices?: readonly string[]): (raw: string) => string[] {
  return (raw) => {
    const items = raw
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    if (choices && items.some((i) => !choices.includes(i))) {
      throw new InvalidValue(`a comma-separated list of ${choices.join(', ')}`);
    }
    return items;
  };
}

/** An http or https URL. */
export function httpUrl(raw: string): string {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidValue('an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidValue('an absolute http:// or https:// URL');
  }
  return value;
}

/** A Kubernetes object name (RFC 1123 subdomain, at most 253 characters). */
export function objectName(raw: string): string {
  const value = raw.trim();
  if (
    value.length > 253 ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value)
  ) {
    throw new InvalidValue('a Kubernetes object name (lower-case letters, digits, "-" and ".")');
  }
  return value;
}

/** A namespace name (RFC 1123 label, at most 63 characters). */
export function namespaceName(raw: string): string {
  const value = raw.trim();
  if (value.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
    throw new InvalidValue('a namespace name (lower-case letters, digits and "-", at most 63)');
  }
  return value;
}

/** `true`/`false` (also 1/0, yes/no). */
export function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new InvalidValue('true or false');
}
