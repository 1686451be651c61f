/**
 * The job's entry point: `run` (the default; what the CronJob runs), `plan`, `status`,
 * `check-routes`, and the operator's requests `retry` and `renew`.
 * Exit codes of a run: 0 the run itself worked, whatever became of each certificate (or another
 * run holds the Lease), 1 the run failed as a whole (the API or ACME server unusable), 2 bad
 * configuration, 3 stopped by SIGTERM or SIGINT; `status` and `check-routes` say 1 when a
 * certificate or a route is not good (README, "Exit codes"). Only this file calls process.exit.
 */
import { resolveSettings } from '../shared/config/setting.js';
import { chooseNamespace, type NamespaceChoice } from '../shared/config/namespace-choice.js';
import { helpWidth } from '../shared/config/help-width.js';
import {
  describeUnknownVariable,
  findUnknownVariables,
} from '../shared/config/unknown-variables.js';
import { responderSettings } from '../responder/settings.js';
import { ConfigError, describeError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { jobSettings, type JobSettings } from './config.js';
import type { CommandContext } from './commands/wiring.js';
import { StopRequest } from './run/stop-request.js';
import { clockFrom } from './test-clock.js';
import { useLeanHeap } from './lean-heap.js';
import type { CommandChoice } from './command-line.js';
import { HELP_TABLE_FILE, helpRequest, lookUpHelp, readHelpTable } from './help-table.js';

type Command = (
  settings: JobSettings,
  logger: ReturnType<typeof createLogger>,
  context: CommandContext,
) => Promise<number>;

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

// A reader that went away (`status | head`, a closed terminal) must not end the process in the
// middle of a command: an unhandled EPIPE would stop a run between its order and the Secret
// write. What the reader would have read is lost; the command carries on, as after console.log.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

/** What the command line chose: the command, and the flags to resolve the settings from. */
interface CommandLine {
  choice: CommandChoice;
  flags: Record<string, unknown>;
}

/**
 * The command that runs `choice`. The commands (commands/commands.ts) are imported only then:
 * they pull in the Kubernetes client, which is most of the start-up cost, and `--help` or a
 * settings error needs none of it. Once they are loaded, V8 is switched to its small heap
 * (lean-heap.ts: after the start-up, so the start-up still reads Node's code caches).
 */
function commandOf(choice: CommandChoice): Command {
  return async (settings, logger, context) => {
    const commands = await import('./commands/commands.js');
    if (useLeanHeap()) logger.debug('V8 switched to --optimize-for-size for the rest of the run');
    switch (choice.command) {
      case 'run':
        return commands.runCommand(settings, logger, context);
      case 'plan':
        return commands.planCommand(settings, logger, context);
      case 'status':
        return commands.statusCommand(settings, logger, context, {
          certificate: choice.certificate,
          output: choice.output,
        });
      case 'retry':
        return commands.retryCommand(settings, logger, context, {
          certificate: choice.certificate,
          allFailed: choice.allFailed,
        });
      case 'renew':
        return commands.renewCommand(settings, logger, context, {
          certificate: choice.certificate,
          all: choice.all,
        });
      case 'check-routes':
        return commands.checkRoutesCommand(settings, logger, context, choice.target);
    }
  };
}

/**
 * The command and flags of `argv`; `undefined` after `--help` or `--version` (printed).
 * Without arguments or with `run` alone — how the CronJob starts the job — it is a run
 * configured by the environment alone, and yargs is not imported: importing it costs some
 * 120–180 ms and 16 MB on Node 24, about a third of a no-op run (issue 13; `npm run
 * bench:startup`). `--help` alone or after a command is printed from the texts rendered at build
 * time when they hold it (help-table.ts), also without yargs.
 * @throws ConfigError for an unknown command or flag.
 */
async function parseCommandLine(argv: string[]): Promise<CommandLine | undefined> {
  // The CronJob's command line (manifests/cronjob.yaml, the chart) and the image's default.
  if (argv.length === 0 || (argv.length === 1 && argv[0] === 'run'))
    return { choice: { command: 'run' }, flags: {} };
  const helpOf = helpRequest(argv);
  if (helpOf !== undefined) {
    const table = readHelpTable(new URL(HELP_TABLE_FILE, import.meta.url));
    const text = lookUpHelp(table, helpOf, helpWidth(process.stdout.columns));
    if (text !== undefined) {
      process.stdout.write(text);
      return undefined;
    }
  }
  const [{ default: yargs }, { jobCommandLine }] = await Promise.all([
    import('yargs'),
    import('./command-line.js'),
  ]);
  // Set by the parser's command handlers (the default command is run).
  let choice = { command: 'run' } as CommandChoice;
  const flags = await jobCommandLine(yargs, argv, (chosen) => {
    choice = chosen;
  }).parseAsync();
  if (flags.help || flags.version) return undefined;
  return { choice, flags };
}

async function main(argv: string[]): Promise<number> {
  const commandLine = await parseCommandLine(argv);
  if (!commandLine) return 0;
  const { choice, flags } = commandLine;
  // `status` is the one command that needs an install.
  const isStatus = choice.command === 'status';
  const namespace = await namespaceChoice(flags.namespace);
  const settings = resolveSettings(
    jobSettings,
    {
      ...flags,
      // Validated like a value given by hand; the flag and the variable are read as they are.
      ...(namespace.source === 'context' ? { namespace: namespace.namespace } : {}),
    },
    process.env,
  );
  const logger = createLogger({ level: settings.logLevel, type: settings.logType });
  // The job and the responder read one settings ConfigMap: a name neither reads is a typo.
  for (const unknown of findUnknownVariables(process.env, [jobSettings, responderSettings]))
    logger.warn(describeUnknownVariable(unknown), { variable: unknown.name });
  // Only `status` needs an install; the other commands also work before the first run.
  // Test hooks are settings too: refused (exit 2) before anything asks the API server.
  const now = clockFrom(process.env);
  const missing = await installMissing(settings, namespace, !isStatus);
  if (missing?.refuse) {
    process.stderr.write(`kube-lego: ${missing.message}\n`);
    // status has nothing to show (1); anything else would start a second install (2).
    return isStatus ? 1 : 2;
  }
  if (missing) logger.warn(missing.message);
  stop = new StopRequest(settings.stopGracePeriod, (signal) => {
    logger.warn(`received ${signal}: no new order is started`, {
      signal,
      gracePeriodMs: settings.stopGracePeriod,
    });
  });
  if (pendingSignal) stop.request(pendingSignal);
  return commandOf(choice)(settings, logger, { now, stop });
}

/**
 * The namespace of kube-lego's objects, as kubectl chooses one (shared/config/namespace-choice.ts).
 * The kubeconfig is read only when neither the flag nor LEGO_NAMESPACE names one.
 */
async function namespaceChoice(flag: unknown): Promise<NamespaceChoice> {
  const variable = process.env.LEGO_NAMESPACE;
  const given = typeof flag === 'string' ? flag : undefined;
  if (given?.trim() || variable?.trim())
    return chooseNamespace({ flag: given, variable, context: undefined });
  const { loadKubeEndpoint } = await import('../shared/kube/load-endpoint.js');
  let context: string | undefined;
  try {
    context = (await loadKubeEndpoint()).namespace;
  } catch {
    // No usable kubeconfig: the settings are still checked first (a bad one exits 2), and the
    // command then says what is missing when it needs the API server.
    context = undefined;
  }
  return chooseNamespace({ flag: given, variable, context });
}

/**
 * Whether the chosen namespace lacks an install, as a message saying where the install is
 * (jobs/commands/install-hint.ts); `undefined` when it has one or need not be checked. A run
 * checks only a namespace nobody named (the context's or `default`): in a pod LEGO_NAMESPACE is
 * always set, and a first run legitimately finds nothing (`beforeFirstRun`: the command works
 * without an install). `refuse`: `status` has nothing to show; another command refuses only
 * when the install is elsewhere (it would start a second one here).
 */
async function installMissing(
  settings: JobSettings,
  choice: NamespaceChoice,
  beforeFirstRun: boolean,
): Promise<{ message: string; refuse: boolean } | undefined> {
  const isRun = beforeFirstRun;
  if (isRun && (choice.source === 'flag' || choice.source === 'variable')) return undefined;
  const { kubeClient, InstallSearch, installHint } = await import('./commands/commands.js');
  const search = new InstallSearch(
    await kubeClient(settings),
    settings.statusConfigMap,
    settings.leaseName,
  );
  if (await search.installedIn(settings.namespace)) return undefined;
  const elsewhere = await search.findElsewhere();
  const found = 'namespaces' in elsewhere && elsewhere.namespaces.length > 0;
  // A first run with no install anywhere is how every install starts.
  if (isRun && 'namespaces' in elsewhere && !found) return undefined;
  const message = installHint(choice, settings.statusConfigMap, elsewhere);
  return { message, refuse: !isRun || found };
}

try {
  process.exitCode = await main(process.argv.slice(2));
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
