/**
 * Settings in kube-lego's style: each one an environment variable (`LEGO_*`) that is also a
 * command-line flag, with a default written the way a user would write it. A flag wins over the
 * variable; the variable wins over the default.
 */
import type { Argv } from 'yargs';
import { ConfigError } from '../errors.js';

/** Thrown by a {@link Setting}'s `parse` when text is not acceptable; names what is. */
export class InvalidValue extends Error {
  constructor(readonly accepted: string) {
    super(accepted);
  }
}

/** One setting. `parse` turns text into a value or throws {@link InvalidValue}. */
export interface Setting<T> {
  /** The environment variable, e.g. `LEGO_EMAIL`. */
  readonly env: string;
  /** Other spellings of the variable that are accepted too (kube-lego's README used some). */
  readonly aliases?: readonly string[];
  /** The flag without dashes, e.g. `email` for `--email`. */
  readonly flag: string;
  readonly description: string;
  /** The default as text, parsed like any value; `undefined` when the setting has none. */
  readonly default: string | undefined;
  readonly parse: (raw: string) => T;
}

export type SettingTable = Record<string, Setting<unknown>>;

/** The parsed values of a table; a setting without default and without value is `undefined`. */
export type SettingValues<S extends SettingTable> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/** Declares a setting; only a helper for type inference. */
export function setting<T>(spec: Setting<T>): Setting<T> {
  return spec;
}

/** Adds one string option per setting to a yargs parser, for parsing and for `--help`. */
export function addSettingOptions<T>(parser: Argv<T>, table: SettingTable): Argv<T> {
  let out = parser;
  for (const spec of Object.values(table)) {
    const names = [spec.env, ...(spec.aliases ?? [])].join(', ');
    out = out.option(spec.flag, {
      type: 'string',
      description: `${spec.description} [env: ${names}]`,
      defaultDescription: spec.default === undefined ? '(none)' : JSON.stringify(spec.default),
    });
  }
  return out;
}

/**
 * Resolves every setting from parsed flags, then the environment, then its default.
 * @throws ConfigError naming the flag or variable, the value and what is accepted.
 */
export function resolveSettings<S extends SettingTable>(
  table: S,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): SettingValues<S> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    let source = `--${spec.flag}`;
    let raw = typeof flags[spec.flag] === 'string' ? (flags[spec.flag] as string) : undefined;
    if (raw === undefined) {
      for (const name of [spec.env, ...(spec.aliases ?? [])]) {
        if (env[name] !== undefined && env[name] !== '') {
          raw = env[name];
          source = name;
          break;
        }
      }
    }
    if (raw === undefined) {
      raw = spec.default;
      source = `${spec.env} (default)`;
    }
    if (raw === undefined) {
      values[key] = undefined;
      continue;
    }
    try {
      values[key] = spec.parse(raw);
    } catch (error) {
      const accepted = error instanceof InvalidValue ? error.accepted : String(error);
      throw new ConfigError(source, raw, accepted, { cause: error });
    }
  }
  return values as SettingValues<S>;
}
