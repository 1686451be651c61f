/**
 * The job's entry point: `run` (the default; what the CronJob runs), `plan`, `status` and
 * `check-routes`.
 * Exit codes: 0 every entry is fine (or another run holds the Lease), 1 any entry failed or the
 * run failed as a whole, 2 bad configuration, 3 stopped by SIGTERM or SIGINT. Only this file
 * calls process.exit.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { standardCommandLine } from '../shared/config/command-line.js';
import { resolveSettings } from '../shared/config/setting.js';
import { ConfigError, describeError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { jobSettings, type JobSettings } from './config.js';
import type { CommandContext } from './commands/wiring.js';
import { StopRequest } from './run/stop-request.js';
import { clockFrom } from './test-clock.js';

type Command = (
  settings: JobSettings,
  logger: ReturnType<typeof createLogger>,
  context: CommandContext,
) => Promise<number>;

// Each command's module is imported only once it is chosen: they pull in the Kubernetes client,
// which is most of the start-up cost, and `--help` or a settings error needs none of it.
const runCommand = async (...args: Parameters<Command>) =>
  (await import('./commands/run-command.js')).runCommand(...args);
const planCommand = async (...args: Parameters<Command>) =>
  (await import('./commands/plan-command.js')).planCommand(...args);
const statusCommand = async (...args: Parameters<Command>) =>
  (await import('./commands/status-command.js')).statusCommand(...args);
const checkRoutesCommand = async (...args: [...Parameters<Command>, string | undefined]) =>
  (await import('./commands/check-routes-command.js')).checkRoutesCommand(...args);

// Installed before anything else: a signal during start-up must not kill the process outright.
let stop: StopRequest | undefined;
let pendingSignal: string | undefined;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    // A second signal means "now": the run's cleanup is skipped, the next run does it.
    if (stop?.requested ?? pendingSignal) process.exit(130);
    if (stop) stop.request(signal);
    else pendingSignal = signal;
  });
}

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
      })
      .command(
        'check-routes [target]',
        "Probe every managed host's challenge route (or those of one <namespace>/<ingress>) without ordering; exit 0 only when all reach the responder",
        (y) => y.positional('target', { type: 'string', describe: '<namespace>/<ingress>' }),
        (args) => {
          chosen = (s, l, c) => checkRoutesCommand(s, l, c, args.target);
        },
      ),
    argv,
    jobSettings,
  );
  const flags = await parser.parseAsync();
  if (flags.help) return 0;
  const settings = resolveSettings(jobSettings, flags as Record<string, unknown>, process.env);
  const logger = createLogger({ level: settings.logLevel, type: settings.logType });
  const now = clockFrom(process.env);
  stop = new StopRequest(settings.stopGracePeriod, (signal) => {
    logger.warn(`received ${signal}: no new order is started`, {
      signal,
      gracePeriodMs: settings.stopGracePeriod,
    });
  });
  if (pendingSignal) stop.request(pendingSignal);
  return chosen(settings, logger, { now, stop });
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
// An order abandoned after a stop request may still hold sockets and timers: end now.
if (stop?.requested) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
