/**
 * The structured logger both programs use: one root logger made in `main`, child loggers that
 * bind fields (`namespace`, `ingress`, `secret`, `hosts`). Text (logfmt-like, kube-lego's
 * default) or JSON lines, on stderr.
 *
 * Fields whose names say they hold key material are replaced by `[redacted]` whatever the level:
 * a private key or an account key must never reach a log (see docs/design.md, "Security").
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_TYPES = ['text', 'json'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
  /** Whether lines at `level` are written; lets callers skip building costly fields. */
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD =
  /(private.?key|account.?key|^key$|tls\.key|secret.?value|password|token.?value)/i;

export interface LoggerOptions {
  level: LogLevel;
  type: LogType;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  /** The clock for timestamps; the real one by default. */
  now?: () => Date;
}

/** Makes a root logger. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  return make({}, options.level, options.type, write, now);
}

/** A logger that writes nothing; for tests and library callers that do not log. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  enabled: () => false,
};

function make(
  bound: LogFields,
  level: LogLevel,
  type: LogType,
  write: (line: string) => void,
  now: () => Date,
): Logger {
  const emit = (at: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[at] < RANK[level]) return;
    const all = { ...bound, ...fields };
    write(
      type === 'json'
        ? JSON.stringify({ time: now().toISOString(), level: at, msg: message, ...redact(all) })
        : formatText(now(), at, message, redact(all)),
    );
  };
  return {
    debug: (m, f) => {
      emit('debug', m, f);
    },
    info: (m, f) => {
      emit('info', m, f);
    },
    warn: (m, f) => {
      emit('warn', m, f);
    },
    error: (m, f) => {
      emit('error', m, f);
    },
    child: (bindings) => make({ ...bound, ...bindings }, level, type, write, now),
    enabled: (at) => RANK[at] >= RANK[level],
  };
}

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[name] = SECRET_FIELD.test(name)
      ? '[redacted]'
      : value instanceof Error
        ? value.message
        : value;
  }
  return out;
}

function formatText(time: Date, level: LogLevel, message: string, fields: LogFields): string {
  let line = `time=${time.toISOString()} level=${level} msg=${quote(message)}`;
  for (const [name, value] of Object.entries(fields)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    line += ` ${name}=${quote(text)}`;
  }
  return line;
}

function quote(text: string): string {
  return /^[\w./:@+,-]+$/.test(text) ? text : JSON.stringify(text);
}
