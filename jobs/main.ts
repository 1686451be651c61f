/**
 * The job's entry point: `run` (the default; what the CronJob runs), `plan` and `status`.
 * Exit codes: 0 every entry is fine (or another run holds the Lease), 1 any entry failed,
 * 2 bad configuration. Only this file calls process.exit.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { standardCommandLine } from '../shared/config/command-line.js';
import { resolveSettings } from '../shared/config/setting.js';
import { ConfigError, describeError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { jobSettings, type JobSettings } from './config.js';
import { runCommand } from './commands/run-command.js';
import { planCommand } from './commands/plan-command.js';
import { statusCommand } from './commands/status-command.js';

type Command = (settings: JobSettings, logger: ReturnType<typeof createLogger>) => Promise<number>;

async function main(argv: string[]): Promise<number> {
  let chosen: Command = runCommand;
  const parser = standardCommandLine(
    yargs(argv)
      .scriptName('kube-lego-job')
      .usage(
        '$0 [command] [options]\n\nEvery option is also an environment variable (shown in brackets).',
      )
      .command(['run', '$0'], 'Reconcile once: issue and renew certificates, then exit', {}, () => {
        chosen = runCommand;
      })
      .command(
        'plan',
        'Print what a run would do for each TLS entry, and why; changes nothing',
        {},
        () => {
          chosen = planCommand;
        },
      )
      .command('status', 'Print the managed certificates with expiry and last result', {}, () => {
        chosen = statusCommand;
      }),
    argv,
    jobSettings,
  );
  const flags = await parser.parseAsync();
  if (flags.help) return 0;
  const settings = resolveSettings(jobSettings, flags as Record<string, unknown>, process.env);
  const logger = createLogger({ level: settings.logLevel, type: settings.logType });
  return chosen(settings, logger);
}

try {
  process.exitCode = await main(hideBin(process.argv));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`kube-lego: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`kube-lego: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
