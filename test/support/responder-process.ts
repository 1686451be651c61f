/**
 * Starts the real responder (`node dist/responder/main.js`, the build the image runs) as a child process, for
 * integration and end-to-end tests. The child runs under `setpriv --pdeathsig SIGKILL` when
 * available, so it dies with the test process even if that is killed; `stop()` sends SIGTERM and
 * waits for the exit.
 *
 *   const responder = await startResponderProcess({ namespace, port: testEnv().pebble.httpPort });
 *   … Pebble's validator reaches it on 127.0.0.1:<port> …
 *   await responder.stop();
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claimPort, testEnv } from '../env/context.js';
import { builtEntry } from './built-entry.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SETPRIV = '/usr/bin/setpriv';

export interface ResponderProcessOptions {
  /** LEGO_NAMESPACE: where the challenge and status ConfigMaps are. */
  namespace: string;
  /** LEGO_PORT; a free port when omitted. */
  port?: number;
  /** LEGO_METRICS_PORT; a free port when omitted. */
  metricsPort?: number;
  /** LEGO_BIND_ADDRESS; 127.0.0.1 when omitted (tests never listen beyond loopback). */
  host?: string;
  /**
   * Network namespace to run the process in (`ip netns exec`; see netns.ts), with `host` one of
   * its addresses and `kubeconfig` one that reaches the API server from there.
   */
  netns?: string;
  /** KUBECONFIG; the shared environment's admin kubeconfig when omitted. */
  kubeconfig?: string;
  /** LEGO_CHALLENGE_CONFIGMAP / LEGO_STATUS_CONFIGMAP; the defaults when omitted. */
  challengeConfigMap?: string;
  statusConfigMap?: string;
  /** LEGO_LOG_LEVEL; `debug` when omitted (the access log is at debug). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** LEGO_LOG_TYPE; `json` when omitted, so tests can parse lines. */
  logType?: 'text' | 'json';
  /** More environment variables (win over the ones above). */
  env?: NodeJS.ProcessEnv;
  /**
   * What to wait for before resolving: `ready` (/readyz is 200, the ConfigMap was listed; the
   * default), `listening` (/healthz answers) or `nothing`.
   */
  waitFor?: 'ready' | 'listening' | 'nothing';
  /** Longest wait for `waitFor`, ms (default 20 s). */
  timeoutMs?: number;
}

export interface ResponderProcess {
  /** `http://<host>:<port>`: the challenge port. */
  url: string;
  /** `http://<host>:<metricsPort>`. */
  metricsUrl: string;
  port: number;
  metricsPort: number;
  pid: number;
  /** Everything the process wrote (stdout and stderr) so far. */
  logs(): string;
  /** Its log lines parsed as JSON (with logType json); other lines are skipped. */
  logRecords(): Record<string, unknown>[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after `timeoutMs`
   * (default 10 s). Safe to call after the process has ended.
   */
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a responder and waits for `options.waitFor`.
 * @throws Error with the process's output when it exits or does not get there in time.
 */
export async function startResponderProcess(
  options: ResponderProcessOptions,
): Promise<ResponderProcess> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? claimPort();
  const metricsPort = options.metricsPort ?? claimPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: options.kubeconfig ?? testEnv().kubeconfig,
    LEGO_NAMESPACE: options.namespace,
    LEGO_PORT: String(port),
    LEGO_METRICS_PORT: String(metricsPort),
    LEGO_BIND_ADDRESS: host,
    LEGO_LOG_LEVEL: options.logLevel ?? 'debug',
    LEGO_LOG_TYPE: options.logType ?? 'json',
    ...(options.challengeConfigMap ? { LEGO_CHALLENGE_CONFIGMAP: options.challengeConfigMap } : {}),
    ...(options.statusConfigMap ? { LEGO_STATUS_CONFIGMAP: options.statusConfigMap } : {}),
    ...options.env,
  };
  const args = [builtEntry('responder')];
  const useSetpriv = existsSync(SETPRIV);
  const command = useSetpriv
    ? [SETPRIV, '--pdeathsig', 'SIGKILL', '--', process.execPath, ...args]
    : [process.execPath, ...args];
  // `ip netns exec` execs the command in place: the pid, the pipes and the signals stay ours.
  if (options.netns) command.unshift('ip', 'netns', 'exec', options.netns);
  const [file = process.execPath, ...rest] = command;
  const child = spawn(file, rest, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${metricsPort}`;

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) => {
    if (!ended) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  const handle: ResponderProcess = {
    url,
    metricsUrl,
    port,
    metricsPort,
    pid: child.pid ?? 0,
    logs: () => output,
    logRecords: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    exited,
    stop,
  };

  const waitFor = options.waitFor ?? 'ready';
  if (waitFor === 'nothing') return handle;
  const path = waitFor === 'ready' ? '/readyz' : '/healthz';
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (ended) {
      throw new Error(`the responder exited before it was ${waitFor}; its output:\n${output}`);
    }
    try {
      const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return handle;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop('SIGKILL');
      throw new Error(`the responder was not ${waitFor} in time; its output:\n${output}`);
    }
    await sleep(50);
  }
}
