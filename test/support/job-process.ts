/**
 * Runs the job the way the CronJob does: as its own process, configured by LEGO_* variables,
 * against the test apiserver and Pebble. Logs are JSON so tests can read the decisions and the
 * summary line.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { testEnv } from '../env/context.js';

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

/** Runs `jobs/main.ts` with `args` and the given environment (plus KUBECONFIG) to its end. */
export async function runJob(
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 120_000,
): Promise<JobResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'jobs', 'main.ts'), ...args],
    {
      cwd: root,
      env: { ...cleanEnv(), KUBECONFIG: testEnv().kubeconfig, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) =>
    child.on('exit', (c) => {
      resolve(c);
    }),
  );
  clearTimeout(timer);
  const logs: Record<string, unknown>[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return { code, stdout, stderr, logs, summary: logs.find((l) => l.msg === 'run finished') };
}

/** The test process's environment without any LEGO_* setting of the developer's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEGO_')));
}
