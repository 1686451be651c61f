/**
 * `npm run bench:issuance`: the cost of issuing new certificates. Against the test environment's
 * apiserver and Pebble (test/env/with-env.sh starts them), with the real responder process
 * serving the tokens, creates N annotated Ingresses of one name each whose Secrets do not exist
 * yet, and runs the job once as the CronJob would (from the build, `dist/`, as in the image).
 * Measured for N = 1, 10 and 100 (override: BENCH_SIZES=1,10); each N gets a fresh namespace,
 * hence a fresh ACME account.
 *
 * Prints wall time, ACME and API requests per certificate, peak RSS and CPU seconds of the job,
 * and the ratio of ACME requests to the protocol's minimum measured against in the same run:
 * 7 + 3n requests for the first certificate of a fresh account (directory, one newNonce,
 * newAccount, newOrder, finalize, an order poll, download; per name an authorization, the
 * challenge answer and one poll: RFC 8555 §7) and 4 + 3n for every later one (n = 1 here).
 * Asserts nothing.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, testEnv } from '../test/env/context.js';
import { annotatedIngress } from '../test/support/fixtures.js';
import { jobEnv } from '../test/support/job-process.js';
import { startResponderProcess } from '../test/support/responder-process.js';

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, '..');
const sizes = (process.env.BENCH_SIZES ?? '1,10,100').split(',').map(Number);
const networking = adminKubeConfig().makeApiClient(NetworkingV1Api);

/** The protocol's minimum for `certificates` new one-name certificates on a fresh account. */
function minimumAcmeRequests(certificates: number): number {
  const names = 1;
  return 7 + 3 * names + (certificates - 1) * (4 + 3 * names);
}

interface Measured {
  wallMs: number;
  maxRssMb: number;
  cpuS: number;
  summary: Record<string, unknown>;
}

async function runJob(lego: string, app: string): Promise<Measured> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEGO_'))),
    KUBECONFIG: testEnv().kubeconfig,
    ...jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, LEGO_LOG_LEVEL: 'info' }),
  };
  const started = Date.now();
  const { stderr } = await execFileAsync(
    '/usr/bin/time',
    ['-f', 'MAXRSS_KB=%M CPU_S=%U+%S', process.execPath, join(root, 'dist', 'jobs', 'main.js')],
    { cwd: root, maxBuffer: 256 * 1024 * 1024, env },
  ).catch((error: unknown) => {
    const e = error as { stderr?: string };
    throw new Error(`the job failed: ${e.stderr?.slice(-3000) ?? String(error)}`);
  });
  const wallMs = Date.now() - started;
  const maxRssMb = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
  const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
  const cpuS = cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN;
  const line = stderr.split('\n').find((l) => l.includes('"run finished"'));
  return { wallMs, maxRssMb, cpuS, summary: JSON.parse(line ?? '{}') as Record<string, unknown> };
}

console.log(`bench:issuance — new certificates from Pebble, node ${process.version}`);
for (const size of sizes) {
  const lego = await createNamespace(`bench-issue-lego-${size}`);
  const app = await createNamespace(`bench-issue-app-${size}`);
  // Pebble dials one port: one responder at a time, watching this size's namespace.
  const responder = await startResponderProcess({
    namespace: lego,
    port: testEnv().pebble.httpPort,
    host: '127.0.0.1',
  });
  try {
    for (let i = 0; i < size; i++) {
      await networking.createNamespacedIngress({
        namespace: app,
        body: annotatedIngress(`site-${i}`, [
          { hosts: [`site-${i}.n${size}.bench.example.com`], secretName: `site-${i}-tls` },
        ]),
      });
    }
    const m = await runJob(lego, app);
    const issued = Number(m.summary.issued ?? 0);
    const acme = Number(m.summary.acmeRequests ?? NaN);
    const api = Number(m.summary.apiRequests ?? NaN);
    const per = (x: number) => (issued > 0 ? (x / issued).toFixed(2) : '-');
    const minimum = minimumAcmeRequests(issued);
    console.log(
      `  N=${size}: issued ${issued}, failed ${String(m.summary.failed)}; wall ${(m.wallMs / 1000).toFixed(1)} s ` +
        `(${per(m.wallMs / 1000)} s/cert); ACME requests ${acme} (${per(acme)}/cert; minimum ${minimum}, ` +
        `ratio ${(acme / minimum).toFixed(2)}); API requests ${api} (${per(api)}/cert); ` +
        `peak RSS ${m.maxRssMb.toFixed(0)} MB; CPU ${m.cpuS.toFixed(2)} s (${per(m.cpuS)} s/cert)`,
    );
  } finally {
    await responder.stop();
  }
}
