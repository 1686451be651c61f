/**
 * Runs the job the way the CronJob does: as its own process, configured by LEGO_* variables,
 * against the test apiserver and Pebble. Logs are JSON so tests can read the decisions and the
 * summary line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { testEnv } from '../env/context.js';
import { builtEntry } from './built-entry.js';

const root = join(import.meta.dirname, '..', '..');

export interface JobResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Parsed JSON log lines. */
  logs: Record<string, unknown>[];
  /** The `run finished` summary line, if the run got that far. */
  summary: Record<string, unknown> | undefined;
}

/**
 * The settings a test run of the job uses: Pebble as the directory, the self-check dialling the
 * responder on Pebble's httpPort and resolving through challtestsrv, short back-offs.
 */
export function jobEnv(
  namespace: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env = testEnv();
  return {
    LEGO_NAMESPACE: namespace,
    LEGO_URL: env.pebble.directoryUrl,
    LEGO_EMAIL: 'ops@example.com',
    LEGO_ACME_PROFILE: 'default',
    LEGO_SELF_CHECK_PORT: String(env.pebble.httpPort),
    LEGO_DNS_SERVER: env.challtestsrv.dnsServer,
    LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '100ms',
    LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '5s',
    LEGO_LOG_TYPE: 'json',
    LEGO_LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** A job process that is still running: its log lines as they arrive, its signals, its end. */
export interface RunningJob {
  readonly pid: number;
  /** Resolves with the first JSON log line (so far or to come) for which `match` holds. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Sends a signal to the process. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited, with everything it wrote. */
  readonly result: Promise<JobResult>;
}

/**
 * Starts the built job (`dist/jobs/main.js`, as in the image) with `args` and the given environment (plus KUBECONFIG). The process is
 * killed (SIGKILL) if it has not ended after `timeoutMs`, so a hung job fails the test.
 * `nodeOptions` go on Node's command line before the entry point, as the CronJob's `args` do.
 */
export function startJob(
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 120_000,
  nodeOptions: readonly string[] = [],
): RunningJob {
  const child = spawn(process.execPath, [...nodeOptions, builtEntry('jobs'), ...args], {
    cwd: root,
    env: { ...cleanEnv(), KUBECONFIG: testEnv().kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const parsed = parseLogLine(line);
      if (!parsed) continue;
      logs.push(parsed);
      for (const waiter of [...waiters]) {
        if (!waiter.match(parsed)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(parsed);
      }
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (c) => {
      resolve(c);
    }),
  );
  // 'close' follows 'exit' once the pipes are drained: every line has been seen.
  const closed = new Promise<void>((resolve) =>
    child.on('close', () => {
      resolve();
    }),
  );
  const result = (async (): Promise<JobResult> => {
    const code = await exited;
    await closed;
    clearTimeout(timer);
    const last = parseLogLine(partial);
    if (last) logs.push(last);
    return { code, stdout, stderr, logs, summary: logs.find((l) => l.msg === 'run finished') };
  })();
  return {
    pid: child.pid ?? -1,
    waitForLog(match) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        // A process that ends without the line fails the wait instead of hanging it.
        void result.then(() => {
          const index = waiters.findIndex((w) => w.resolve === resolve);
          if (index < 0) return;
          waiters.splice(index, 1);
          reject(
            new Error(
              `the job ended without the awaited log line; stderr:\n${stderr.slice(-3000)}`,
            ),
          );
        });
      });
    },
    kill(signal) {
      child.kill(signal);
    },
    result,
  };
}

/** Runs the built job (`dist/jobs/main.js`) with `args` and the given environment (plus KUBECONFIG) to its end. */
export async function runJob(
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 120_000,
  nodeOptions: readonly string[] = [],
): Promise<JobResult> {
  return startJob(env, args, timeoutMs, nodeOptions).result;
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The test process's environment without any LEGO_* setting of the developer's shell. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEGO_')));
}

/** Asserts the job's exit code; the failure message carries the end of its stderr. */
export function assertExit(result: JobResult, code: number): void {
  assert.equal(
    result.code,
    code,
    `exit code ${result.code}; stderr:\n${result.stderr.slice(-4000)}`,
  );
}
