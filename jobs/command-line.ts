/**
 * The job's command line: its commands, their arguments, and every setting as a flag with its
 * variable and default (shared/config/command-line.ts). `main.ts` parses with it;
 * `scripts/render-help.ts` renders its `--help` texts when the job is built (jobs/help-table.ts).
 * Both need the same definitions, so they live here and nowhere else.
 */
import type { Argv } from 'yargs';
import { standardCommandLine } from '../shared/config/command-line.js';
import { packageVersion } from '../shared/config/package-version.js';
import { jobSettings } from './config.js';
// Light: the formats only (no Kubernetes client).
import { OUTPUT_FORMATS } from './commands/status-view.js';
import type { StatusOptions } from './commands/status-command.js';

/** The command the command line chose, with its own arguments. */
export type CommandChoice =
  | { command: 'run' }
  | { command: 'plan' }
  | ({ command: 'status' } & StatusOptions)
  | { command: 'retry'; certificate?: string | undefined; allFailed?: boolean | undefined }
  | { command: 'renew'; certificate?: string | undefined; all?: boolean | undefined }
  | { command: 'check-routes'; target?: string | undefined };

/** Every command, each once: the help texts rendered at build time are one per command. */
export const JOB_COMMANDS = Object.keys({
  run: true,
  plan: true,
  status: true,
  retry: true,
  renew: true,
  'check-routes': true,
} satisfies Record<CommandChoice['command'], true>) as readonly CommandChoice['command'][];

/** The optional `<namespace>/<secret>` of status, retry and renew. */
const CERTIFICATE_ARGUMENT = { type: 'string', describe: '<namespace>/<secret>' } as const;

/** yargs' default export: a parser over the given arguments. */
export type YargsFactory = (args: string[]) => Argv;

/**
 * The job's parser over `argv`, built on `yargs` (passed in: importing yargs is a cost only a
 * command line other than the CronJob's pays). Parsing it calls `choose` once with the command
 * chosen, or not at all after `--help` or `--version`; a parse failure throws ConfigError.
 */
export function jobCommandLine(
  yargs: YargsFactory,
  argv: string[],
  choose: (choice: CommandChoice) => void,
): Argv {
  return standardCommandLine(
    yargs(argv)
      .scriptName('kube-lego-job')
      .usage(
        '$0 [command] [options]\n\nEvery option is also an environment variable (shown in brackets).',
      )
      .command(['run', '$0'], 'Reconcile once: issue and renew certificates, then exit', {}, () => {
        choose({ command: 'run' });
      })
      .command(
        'plan',
        'Print what a run would do for each TLS entry, and why; changes nothing',
        {},
        () => {
          choose({ command: 'plan' });
        },
      )
      .command(
        'status [certificate]',
        'Print the managed certificates with expiry, last result and failure; one <namespace>/<secret> in full',
        (y) =>
          y
            .positional('certificate', CERTIFICATE_ARGUMENT)
            .option('output', { alias: 'o', choices: OUTPUT_FORMATS, default: 'table' as const }),
        (a) => {
          choose({ command: 'status', certificate: a.certificate, output: a.output });
        },
      )
      .command(
        'retry [certificate]',
        'Forget the back-off of <namespace>/<secret> (or --all-failed): the next run tries at once',
        (y) =>
          y
            .positional('certificate', CERTIFICATE_ARGUMENT)
            .option('all-failed', { type: 'boolean', describe: 'every failing certificate' }),
        (a) => {
          choose({ command: 'retry', certificate: a.certificate, allFailed: a.allFailed });
        },
      )
      .command(
        'renew [certificate]',
        'Re-issue <namespace>/<secret> (or --all) on the next run, although it is valid',
        (y) =>
          y
            .positional('certificate', CERTIFICATE_ARGUMENT)
            .option('all', { type: 'boolean', describe: 'every managed certificate' }),
        (a) => {
          choose({ command: 'renew', certificate: a.certificate, all: a.all });
        },
      )
      .command(
        'check-routes [target]',
        "Probe every managed host's challenge route (or those of one <namespace>/<ingress>) without ordering; exit 0 only when all reach the responder",
        (y) => y.positional('target', { type: 'string', describe: '<namespace>/<ingress>' }),
        (a) => {
          choose({ command: 'check-routes', target: a.target });
        },
      ),
    argv,
    jobSettings,
    { version: packageVersion(import.meta.dirname) },
  ).alias('namespace', 'n');
}
