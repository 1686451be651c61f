/**
 * The responder's entry point: serves HTTP-01 challenges from the challenge ConfigMap on
 * LEGO_PORT, and metrics on LEGO_METRICS_PORT, until SIGTERM (or SIGINT).
 *
 *   node dist/responder/main.js [--port 8080] [--metrics-port 9090] [--namespace kube-lego] …
 *
 * Exit codes: 0 after a graceful shutdown, 1 when it cannot start (no API configuration, a port
 * in use), 2 for a bad setting or flag. Only this file calls process.exit.
 */
import { standardCommandLine } from '../shared/config/command-line.js';
import { resolveSettings } from '../shared/config/setting.js';
import { ConfigError, describeError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createResponderApp } from './app.js';
import { ChallengeTable } from './challenge-table.js';
import { HttpConfigMapApi } from './configmap-http-api.js';
import { ConfigMapWatcher } from './configmap-watcher.js';
import { DEFAULT_LIMITS, HardenedServer } from './http-server.js';
import { exposedGarbageCollection, IdleCollector } from './idle-collector.js';
import { loadKubeConnection } from '../shared/kube/kube-connection.js';
import { createMetricsApp } from './metrics-app.js';
import { ResponderMetrics } from './metrics.js';
import { responderSettings, type ResponderSettings } from './settings.js';
import { JobStatusView } from './job-status-view.js';

/** How long a shutdown waits for requests in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * The settings, from flags (if any), the environment and the defaults; `undefined` after
 * `--help`. yargs is imported only when there are command-line arguments: it costs some 6 MB of
 * resident memory, and the Deployment configures the responder through the environment alone.
 * @throws ConfigError for a bad value or an unknown flag.
 */
async function parseSettings(argv: string[]): Promise<ResponderSettings | undefined> {
  let flags: Record<string, unknown> = {};
  if (argv.length > 0) {
    const parsed = await parseFlags(argv);
    if (parsed === undefined) return undefined;
    flags = parsed;
  }
  const settings = resolveSettings(responderSettings, flags, process.env);
  if (settings.metricsPort === settings.port) {
    throw new ConfigError(
      'LEGO_METRICS_PORT',
      String(settings.metricsPort),
      `a port other than LEGO_PORT (${settings.port}): metrics must not be reachable where challenges are`,
    );
  }
  return settings;
}

/** The command-line flags; `undefined` when `--help` was asked for (and printed). */
async function parseFlags(argv: string[]): Promise<Record<string, unknown> | undefined> {
  const { default: yargs } = await import('yargs');
  const parser = standardCommandLine(
    yargs(argv)
      .scriptName('kube-lego-responder')
      .usage(
        '$0 [options]\n\nServes ACME HTTP-01 challenges from the challenge ConfigMap.\nEvery option is also an environment variable (shown in brackets).',
      ),
    argv,
    responderSettings,
  );
  const flags = await parser.parseAsync();
  return flags.help ? undefined : flags;
}

async function serve(settings: ResponderSettings, logger: Logger): Promise<number> {
  // Listen for the signals first: one that comes while starting still shuts down gracefully.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const connection = await loadKubeConnection();
  const api = new HttpConfigMapApi(connection);
  const challenges = new ChallengeTable(logger.child({ configmap: settings.challengeConfigMap }));
  const status = new JobStatusView(logger.child({ configmap: settings.statusConfigMap }));

  let draining = false;
  const isReady = () => !draining && challengeWatcher.hasListed;
  const metrics = new ResponderMetrics({ challenges, status, isReady });

  const challengeWatcher = new ConfigMapWatcher({
    api,
    namespace: settings.namespace,
    name: settings.challengeConfigMap,
    logger: logger.child({ configmap: settings.challengeConfigMap }),
    onChange: (data) => challenges.replace(data),
    onSynced: (at) => {
      metrics.markSynced('challenge', at);
    },
    onRestart: (reason) => {
      metrics.countWatchRestart('challenge', reason);
    },
  });
  const statusWatcher = new ConfigMapWatcher({
    api,
    namespace: settings.namespace,
    name: settings.statusConfigMap,
    logger: logger.child({ configmap: settings.statusConfigMap }),
    onChange: (data) => {
      status.replace(data);
    },
    onSynced: (at) => {
      metrics.markSynced('status', at);
    },
    onRestart: (reason) => {
      metrics.countWatchRestart('status', reason);
    },
  });

  const app = createResponderApp({
    challenges,
    isReady,
    countRequest: (result) => {
      metrics.countRequest(result);
    },
    logger: logger.child({ port: settings.port }),
    maxHeaders: DEFAULT_LIMITS.maxHeaders,
  });
  const server = new HardenedServer(app.callback(), {
    logger,
    onRejected: (reason) => {
      metrics.countRejected(reason);
    },
    onShed: (reason) => {
      metrics.countShed(reason);
    },
  });
  const metricsServer = new HardenedServer(
    createMetricsApp(() => metrics.render(), logger).callback(),
    { logger },
  );
  try {
    await server.listen(settings.port, settings.bindAddress);
    await metricsServer.listen(settings.metricsPort, settings.bindAddress);
  } catch (error) {
    logger.error('cannot listen', { error: describeError(error) });
    await Promise.all([server.shutdown(0), metricsServer.shutdown(0)]);
    return 1;
  }
  challengeWatcher.start();
  statusWatcher.start();
  // One memory-reducing collection once the challenge port is quiet after a burst (V8 keeps the
  // heap a load grew otherwise); needs --expose-gc, which the manifests give.
  const collect = exposedGarbageCollection();
  const idleCollector =
    collect === undefined
      ? undefined
      : new IdleCollector({ readTraffic: () => server.traffic, collect, logger });
  idleCollector?.start();
  if (idleCollector === undefined) {
    logger.debug('no garbage collection after bursts: Node runs without --expose-gc');
  }
  logger.info('responder started', {
    port: settings.port,
    metricsPort: settings.metricsPort,
    address: settings.bindAddress || '(all)',
    namespace: settings.namespace,
    challengeConfigMap: settings.challengeConfigMap,
    statusConfigMap: settings.statusConfigMap,
    api: connection.server,
    credentials: connection.source,
  });

  const signal = await stopSignal;
  draining = true;
  idleCollector?.stop();
  logger.info('shutting down', { signal, requestsInFlight: server.requestsInFlight });
  const started = Date.now();
  await Promise.all([
    server.shutdown(SHUTDOWN_GRACE_MS),
    metricsServer.shutdown(SHUTDOWN_GRACE_MS),
    challengeWatcher.stop(),
    statusWatcher.stop(),
  ]);
  logger.info('stopped', { ms: Date.now() - started });
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const settings = await parseSettings(argv);
  if (settings === undefined) return 0;
  const logger = createLogger({ level: settings.logLevel, type: settings.logType });
  try {
    return await serve(settings, logger);
  } catch (error) {
    logger.error('the responder failed', { error: describeError(error) });
    return 1;
  }
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  const message = error instanceof ConfigError ? error.message : describeError(error);
  process.stderr.write(`kube-lego-responder: ${message}\n`);
  code = error instanceof ConfigError ? 2 : 1;
}
// Keep-alive sockets to the API server would hold the event loop open: exit explicitly.
process.exit(code);
