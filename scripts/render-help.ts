/**
 * Renders the job's `--help` texts with yargs, for jobs/help-table.ts: every command and the
 * program itself, at each of HELP_TABLE_WIDTHS. Called by scripts/build-dist.ts, which writes the
 * table beside the job's bundle.
 */
import yargs from 'yargs';
import { JOB_COMMANDS, jobCommandLine } from '../jobs/command-line.js';
import { HELP_TABLE_WIDTHS, type HelpTable } from '../jobs/help-table.js';

/** What the job prints for `[command] --help` at `width`: yargs' output and its newline. */
async function renderHelp(command: string, width: number): Promise<string> {
  const argv = command === '' ? ['--help'] : [command, '--help'];
  let printed: string | undefined;
  // With a callback, yargs hands its output over instead of printing it and exiting.
  await jobCommandLine(yargs, argv, () => undefined)
    .wrap(width)
    .parse(argv, {}, (error: Error | undefined, _argv: unknown, output: string) => {
      if (error) throw error;
      printed = output;
    });
  if (!printed) throw new Error(`yargs printed no help for ${argv.join(' ')}`);
  // The job prints it as yargs does, with console.log.
  return `${printed}\n`;
}

/** The table: for each width, the program's help ('') and each command's. */
export async function renderHelpTable(): Promise<HelpTable> {
  const table: HelpTable = {};
  for (const width of HELP_TABLE_WIDTHS) {
    const texts: Record<string, string> = {};
    for (const command of ['', ...JOB_COMMANDS]) texts[command] = await renderHelp(command, width);
    table[width] = texts;
  }
  return table;
}
