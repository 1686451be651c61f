/**
 * The command-line conventions both programs share: the settings as flags, `--help` listing
 * each with its variable and default, unknown flags refused, and every parse failure turned into
 * a {@link ConfigError} (exit code 2) rather than yargs printing and exiting on its own.
 * Takes the yargs instance from the caller, so the responder can import yargs only when needed.
 */
import type { Argv } from 'yargs';
import { ConfigError, describeError } from '../errors.js';
import { addSettingOptions, type SettingTable } from './setting.js';

/**
 * Applies the shared conventions and the settings' options to `parser` (built on `argv`): an
 * unknown command gets yargs' "Did you mean …?" hint, and `--version` prints `version` when one
 * is given (the program's package version), otherwise there is no such flag.
 */
export function standardCommandLine<T>(
  parser: Argv<T>,
  argv: readonly string[],
  table: SettingTable,
  options: { version?: string } = {},
): Argv<T> {
  const versioned =
    options.version === undefined
      ? parser.version(false)
      : parser.version('version', 'Print the version and exit', options.version);
  return addSettingOptions(
    versioned
      .strict()
      .recommendCommands()
      .help()
      .alias('help', 'h')
      .wrap(Math.min(120, process.stdout.columns || 120))
      .fail((message, error) => {
        throw new ConfigError('command line', argv.join(' '), message || describeError(error));
      }),
    table,
  );
}
