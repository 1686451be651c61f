/**
 * Durations in Go's `time.ParseDuration` syntax, the syntax of kube-lego's settings
 * (`30s`, `5m`, `8h`, `720h`, `1h30m`, `1.5h`, `300ms`).
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration into milliseconds. Returns `undefined` for anything Go would reject, and
 * for negative durations (no setting of ours accepts one). `"0"` is zero.
 */
export function parseDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '0') return 0;
  if (input === '' || input.startsWith('-')) return undefined;
  const body = input.startsWith('+') ? input.slice(1) : input;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < body.length) {
    const start = PART.lastIndex;
    const match = PART.exec(body);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * (UNITS[match[2] ?? ''] ?? NaN);
  }
  return Number.isFinite(total) && body.length > 0 ? total : undefined;
}

/** Formats milliseconds the way Go prints a duration, e.g. `720h0m0s`, `1m30s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
