/**
 * The job's `--help` texts, rendered by yargs when the job is built (scripts/render-help.ts) and
 * written beside the bundle as `help.json`, so that asking for help does not load and run yargs.
 *
 * Why (issue 13): yargs' help costs about 60 ms on Node 24 before it prints (its Unicode width
 * tables and the layout), twice what Node itself takes to start; read from this table, `--help`
 * costs little more than Node's start. The table holds the texts yargs renders, byte for byte
 * (test/jobs/help.test.ts compares them with yargs' live output): a command line the table does
 * not answer (other arguments beside `--help`, a terminal of another width, no table when the job
 * runs from its sources) goes to yargs as before.
 */
import { readFileSync } from 'node:fs';

/** The help texts by wrap width (shared/config/help-width.ts), then by command ('' for none). */
export type HelpTable = Record<string, Record<string, string>>;

/**
 * The widths rendered: 120, what a pipe and any terminal of 120 columns or more get, and 80, a
 * terminal's customary width. Each costs about 100 KB in the image (every command's help lists
 * every setting), and `--help` reads both in about 1 ms.
 */
export const HELP_TABLE_WIDTHS: readonly number[] = [80, 120];

/** The file name beside the job's entry point (`dist/jobs/help.json`). */
export const HELP_TABLE_FILE = 'help.json';

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * The command whose help `argv` asks for and nothing else: `''` for `--help` (or `-h`) alone,
 * `<word>` for `<word> --help`; `undefined` for any other command line. Whether `<word>` is a
 * command is for the table to say (it holds no text for anything else).
 */
export function helpRequest(argv: readonly string[]): string | undefined {
  const [first, second, ...rest] = argv;
  if (first === undefined || rest.length > 0) return undefined;
  if (second === undefined) return HELP_FLAGS.has(first) ? '' : undefined;
  return HELP_FLAGS.has(second) && !first.startsWith('-') ? first : undefined;
}

/** The text for `command` at `width`; `undefined` when the table has none. */
export function lookUpHelp(
  table: HelpTable | undefined,
  command: string,
  width: number,
): string | undefined {
  // Own properties only: the command comes from the command line (`constructor --help`).
  const texts: unknown = table && Object.hasOwn(table, width) ? table[width] : undefined;
  if (typeof texts !== 'object' || texts === null || !Object.hasOwn(texts, command))
    return undefined;
  const text: unknown = (texts as Record<string, unknown>)[command];
  return typeof text === 'string' ? text : undefined;
}

/**
 * The table in `file`; `undefined` when there is none (the job run from its sources) or it is not
 * a table (then yargs renders the help, as without one).
 */
export function readHelpTable(file: URL): HelpTable | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as HelpTable)
    : undefined;
}
