/**
 * The command-line conventions both programs share: the settings as flags, `--help` listing
 * each with its variable and default, unknown flags refused, and every parse failure turned into
 * a {@link ConfigError} (exit code 2) rather than yargs printing and exiting on its own.
 * Takes the yargs instance from the caller, so the responder can import yargs only when needed.
 */
import type { Argv } from 'yargs';
import { ConfigError, describeError } from '../errors.js';
import { closestName } from './closest-name.js';
import { helpWidth } from './help-width.js';
import { addSettingOptions, type SettingTable } from './setting.js';

/**
 * Applies the shared conventions and the settings' options to `parser` (built on `argv`): an
 * unknown command gets a "did you mean …?" with the closest command, and `--version` prints `version` when one
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
  // Read now: while yargs runs the default command, its command table is reset.
  const commands = commandsOf(parser);
  return addSettingOptions(
    versioned
      .strict()
      .help()
      .alias('help', 'h')
      .wrap(helpWidth(process.stdout.columns))
      // yargs' own words ("Options:", "[default: …]") in English, as the rest of the help is,
      // whatever LANG says; the bundles cannot read yargs' locale files anyway.
      .locale('en')
      .fail((message, error) => {
        const hint = commandHint(commands, argv, message);
        throw new ConfigError(
          'command line',
          argv.join(' '),
          (message || describeError(error)) + (hint ? `; ${hint}` : ''),
        );
      }),
    table,
  );
}

/**
 * The commands registered on `parser` so far, from yargs' command table (an internal but
 * long-standing method; none if it is absent). Register commands before calling
 * {@link standardCommandLine}.
 */
function commandsOf(parser: unknown): string[] {
  const internals = parser as {
    getInternalMethods?: () => { getCommandInstance(): { getCommands(): string[] } };
  };
  return [...(internals.getInternalMethods?.().getCommandInstance().getCommands() ?? [])];
}

/**
 * "did you mean status?" when yargs refused the first word of `argv` as an unknown argument
 * and it is close to a command. yargs' own recommendCommands() stays silent in a program with a
 * default command (the job's `run`): it reads an unknown word as that command's argument.
 */
function commandHint(
  commands: readonly string[],
  argv: readonly string[],
  message: string | undefined,
): string | undefined {
  const word = argv.find((a) => !a.startsWith('-'));
  if (word === undefined || commands.length === 0 || commands.includes(word)) return undefined;
  if (!message?.includes(word)) return undefined;
  const closest = closestName(word, commands);
  return closest
    ? `unknown command ${JSON.stringify(word)}: did you mean ${closest}?`
    : `unknown command ${JSON.stringify(word)} (commands: ${commands.join(', ')})`;
}
