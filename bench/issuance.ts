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
 *
 * Peer, in the same run (issue 13, item 4): the lego CLI (github.com/go-acme/lego/v5, built by
 * `test/env/build-servers.sh lego` on first use and cached), one `lego run` process per new
 * certificate as a cron line would start it, BENCH_LEGO_N certificates (default 100) one after
 * the other against the same Pebble, sharing one account (its --path). Each process serves its
 * own HTTP-01 answer on Pebble's validation port (`--http.address`), so it runs after our sizes,
 * when our responder has stopped. Keys are RSA 2048 like ours (lego's default is EC256), and it
 * names the `default` profile as our job does. CPU is user + system of each lego process as
 * /usr/bin/time reports it (process start included), as for our job; printed per certificate
 * with the ratio ours/lego at our largest N (the target: ≤ 2×). BENCH_PEERS=0 skips lego.
 *
 * The job runs as the image runs it: Node 24 with the compile cache (bench/job-node.ts);
 * BENCH_JOB_NODE=/path/to/node picks another Node. It matters: most of a certificate's CPU is its
 * RSA-2048 key, and OpenSSL's key generation costs about three times as much under Node 20 as
 * under Node 24 on this machine, so the bench prints the key generation's CPU on the job's Node.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, testEnv } from '../test/env/context.js';
import { annotatedIngress } from '../test/support/fixtures.js';
import { jobEnv } from '../test/support/job-process.js';
import { compileCacheEnv, cronJobNodeOptions, jobNode, nodeVersion } from './job-node.js';
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

const node = jobNode();
const cacheEnv = compileCacheEnv(node, root);

/** CPU milliseconds of one RSA-2048 key generation on `nodeBin` (mean of 5). */
function rsaKeyCpuMs(nodeBin: string): number {
  const script =
    "const c=require('node:crypto');const t=process.cpuUsage();" +
    "for(let i=0;i<5;i++)c.generateKeyPairSync('rsa',{modulusLength:2048});" +
    'const u=process.cpuUsage(t);console.log((u.user+u.system)/5000);';
  return Number(execFileSync(nodeBin, ['-e', script], { encoding: 'utf8' }).trim());
}

async function runJob(lego: string, app: string): Promise<Measured> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEGO_'))),
    KUBECONFIG: testEnv().kubeconfig,
    ...cacheEnv,
    ...jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, LEGO_LOG_LEVEL: 'info' }),
  };
  const started = Date.now();
  const { stderr } = await execFileAsync(
    '/usr/bin/time',
    [
      '-f',
      'MAXRSS_KB=%M CPU_S=%U+%S',
      node,
      ...cronJobNodeOptions(),
      join(root, 'dist', 'jobs', 'main.js'),
    ],
    { cwd: root, maxBuffer: 256 * 1024 * 1024, env },
  ).catch((error: unknown) => {
    const e = error as { stderr?: string };
    throw new Error(`the job failed: ${e.stderr?.slice(-3000) ?? String(error)}`);
  });
  const wallMs = Date.now() - started;
  const maxRssMb = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
  const cpuS = cpuSeconds(stderr);
  const line = stderr.split('\n').find((l) => l.includes('"run finished"'));
  return { wallMs, maxRssMb, cpuS, summary: JSON.parse(line ?? '{}') as Record<string, unknown> };
}

const legoCount = Number(process.env.BENCH_LEGO_N ?? '100');
const peers = process.env.BENCH_PEERS !== '0';
// Generous: a certificate takes well under a second here; a stuck lego must not hang the bench.
const legoTimeoutMs = 120_000;

/** Seconds of user + system CPU from `/usr/bin/time -f '… CPU_S=%U+%S'` output; NaN if absent. */
function cpuSeconds(stderr: string): number {
  const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
  return cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN;
}

/** The folder holding the lego binary, built and cached by build-servers.sh on first use. */
function legoDir(): string {
  const out = execFileSync('bash', [join(root, 'test', 'env', 'build-servers.sh'), 'lego'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const dir = /^LEGO_DIR=(.*)$/m.exec(out)?.[1];
  if (!dir) throw new Error(`build-servers.sh lego printed no LEGO_DIR: ${out}`);
  return dir;
}

interface LegoRun {
  wallMs: number;
  cpuS: number;
}

/** Runs `lego run` once for `host`; throws with the end of its output when it fails. */
async function runLego(lego: string, path: string, host: string): Promise<LegoRun> {
  const env = testEnv();
  const started = Date.now();
  const { stderr } = await execFileAsync(
    '/usr/bin/time',
    [
      '-f',
      'CPU_S=%U+%S',
      lego,
      '--log.format=text',
      'run',
      `--server=${env.pebble.directoryUrl}`,
      '--accept-tos',
      '--email=ops@example.com',
      `--path=${path}`,
      '--key-type=RSA2048',
      '--profile=default',
      '--http',
      `--http.address=127.0.0.1:${env.pebble.httpPort}`,
      `--domains=${host}`,
    ],
    {
      maxBuffer: 16 * 1024 * 1024,
      timeout: legoTimeoutMs,
      // Pebble's HTTPS certificate is signed by the test CA.
      env: { ...process.env, LEGO_CA_CERTIFICATES: env.caFile },
    },
  ).catch((error: unknown) => {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(
      `lego failed for ${host}: ${(e.stdout ?? '') + (e.stderr ?? String(error))}`.slice(-3000),
    );
  });
  return { wallMs: Date.now() - started, cpuS: cpuSeconds(stderr) };
}

console.log(
  `bench:issuance — new certificates from Pebble, the job on node ${nodeVersion(node)}${cacheEnv.NODE_COMPILE_CACHE ? ' with the compile cache' : ''}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`  one RSA-2048 key generation on that Node: ${rsaKeyCpuMs(node).toFixed(0)} ms CPU`);
let oursPerCert: { size: number; cpuS: number; wallS: number } | undefined;
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
    if (issued > 0 && (oursPerCert === undefined || size >= oursPerCert.size)) {
      oursPerCert = { size, cpuS: m.cpuS / issued, wallS: m.wallMs / 1000 / issued };
    }
  } finally {
    await responder.stop();
  }
}

if (!peers) {
  console.log('  lego: skipped (BENCH_PEERS=0)');
} else {
  const lego = join(legoDir(), 'lego');
  const version = execFileSync(lego, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  const path = mkdtempSync(join(tmpdir(), 'bench-lego-'));
  const runs: LegoRun[] = [];
  try {
    for (let i = 0; i < legoCount; i++) {
      runs.push(await runLego(lego, path, `site-${i}.lego.bench.example.com`));
    }
  } finally {
    // lego's folder holds the account key and the certificates' keys.
    rmSync(path, { recursive: true, force: true });
  }
  const cpuS = runs.reduce((n, r) => n + r.cpuS, 0);
  const wallS = runs.reduce((n, r) => n + r.wallMs, 0) / 1000;
  const first = runs[0];
  console.log(
    `  lego (${version}): ${runs.length} processes, one certificate each; wall ${wallS.toFixed(1)} s ` +
      `(${(wallS / runs.length).toFixed(2)} s/cert); CPU ${cpuS.toFixed(2)} s ` +
      `(${(cpuS / runs.length).toFixed(3)} s/cert, process start included; the first, which ` +
      `registers the account, ${first ? first.cpuS.toFixed(2) : '-'} s)`,
  );
  if (oursPerCert && runs.length > 0) {
    console.log(
      `  CPU per certificate: ours ${oursPerCert.cpuS.toFixed(3)} s (N=${oursPerCert.size}), lego ` +
        `${(cpuS / runs.length).toFixed(3)} s (N=${runs.length}); ratio ours/lego ` +
        `${(oursPerCert.cpuS / (cpuS / runs.length)).toFixed(2)}× (target ≤ 2×); wall per certificate ` +
        `ours ${oursPerCert.wallS.toFixed(2)} s, lego ${(wallS / runs.length).toFixed(2)} s`,
    );
  }
}
console.log(
  `  load at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
