/**
 * `npm run bench:reconcile`: the cost of a no-op run. Against the real apiserver of the test
 * environment (test/env/with-env.sh starts it), creates N annotated Ingresses whose Secrets hold
 * valid certificates, runs the job as the CronJob would, and prints wall time, API requests and
 * the job's peak memory. Measured for N = 1,000 and 5,000 (override: BENCH_SIZES=100,1000).
 * The job runs from the build (`dist/`, as in the image), so its memory is the product's, not
 * the TypeScript loader's, and on the image's Node 24 with the compile cache the image bakes in
 * (bench/job-node.ts; BENCH_JOB_NODE picks another Node). Prints figures; asserts nothing.
 *
 * The baseline is the previous code, measured in the same bench run because the machine is
 * noisy: the tree of BENCH_BASELINE_REF (default: where HEAD branched off `main`, or HEAD's first
 * parent when HEAD is on `main`) is exported with `git archive` to a temporary directory and built there; its runs alternate with this checkout's over the same
 * Ingresses and Secrets, each with its own LEGO_NAMESPACE (its own status ConfigMap and Lease),
 * BENCH_ROUNDS times (default 3); the medians and their ratio are printed. BENCH_BASELINE_REF=''
 * skips the baseline.
 *
 * Peer, in the same run (issue 13, item 2): cert-manager v1.21's controllers restarting and
 * syncing on the same Secrets, through Certificates of its own (bench/peers/cert-manager.ts; built
 * on first use by `test/env/build-servers.sh cert-manager`), for the sizes in
 * BENCH_CERT_MANAGER_SIZES (default 1000; BENCH_PEERS=0 skips it). Before any timed run it runs
 * once to reach its steady state: it marks every Certificate Ready and, once, writes its own
 * labels and annotations on each Secret (both would happen once in a real cluster too); the
 * bench checks that all Certificates are Ready and that no CertificateRequest exists (nothing was
 * re-issued; when its first sync did issue one, the population is built again, up to three
 * times). Then each round times, besides the baseline and this checkout, one restart: a process
 * started from nothing until it has synced every Certificate (see that file for the exact
 * definition) and exited. Printed: its median and the ratio this/cert-manager (the issue's
 * target: ≤ 0.5×), and again the Ready and CertificateRequest counts after the rounds.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import forge from 'node-forge';
import { adminKubeConfig, createNamespace, testEnv } from '../test/env/context.js';
import { annotatedIngress } from '../test/support/fixtures.js';
import { compileCacheEnv, cronJobNodeOptions, jobNode, nodeVersion } from './job-node.js';
import {
  certManagerDir,
  certManagerSecretAnnotations,
  certManagerState,
  createCertManagerObjects,
  installCertManagerCrds,
  runCertManager,
  type CertManagerRun,
} from './peers/cert-manager.js';

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, '..');
const sizes = (process.env.BENCH_SIZES ?? '1000,5000').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? '3');
const baselineRef = process.env.BENCH_BASELINE_REF ?? previousCode();
const directoryUrl = 'https://acme.invalid/directory';
const certManagerSizes = (process.env.BENCH_CERT_MANAGER_SIZES ?? '1000').split(',').map(Number);
const peers = process.env.BENCH_PEERS !== '0';
// Its first sync writes each Certificate's status and each Secret's metadata at its client's
// 20 requests/s: about 100 s for 1,000 here; a restart takes seconds.
const certManagerTimeoutMs = 900_000;

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);

// One key for every certificate: the chain checks the key matches, not that it is unique.
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const forgeKey = forge.pki.privateKeyFromPem(keyPem);
const forgePublic = forge.pki.publicKeyFromPem(
  keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
);

function certificate(host: string): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublic;
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 90 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: host }]);
  cert.setIssuer([{ name: 'commonName', value: 'bench CA' }]);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: host }] }]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Creates `count` Ingresses and their Secrets; with `forCertManager`, the Secrets also carry
 * what cert-manager needs to find them up to date for the Certificates named after them.
 */
async function populate(namespace: string, count: number, forCertManager: boolean): Promise<void> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  await pool(indexes, 16, async (i) => {
    const host = `site-${i}.bench.example.com`;
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: `site-${i}-tls`,
          annotations: {
            'kube-lego.io/directory-url': directoryUrl,
            ...(forCertManager ? certManagerSecretAnnotations(`site-${i}-tls`) : {}),
          },
        },
        type: 'kubernetes.io/tls',
        stringData: { 'tls.crt': certificate(host), 'tls.key': keyPem },
      },
    });
    await networking.createNamespacedIngress({
      namespace,
      body: annotatedIngress(`site-${i}`, [{ hosts: [host], secretName: `site-${i}-tls` }]),
    });
  });
}

/** The job's environment for a run over `app`; logs at `level` (info adds a line per certificate). */
function jobEnv(
  lego: string,
  app: string,
  level: 'warn' | 'info',
  cache: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...cache,
    KUBECONFIG: testEnv().kubeconfig,
    LEGO_NAMESPACE: lego,
    LEGO_WATCH_NAMESPACE: app,
    LEGO_URL: directoryUrl,
    LEGO_LOG_TYPE: 'json',
    LEGO_LOG_LEVEL: level,
  };
}

interface Measured {
  wallMs: number;
  maxRssMb: number;
  summary: Record<string, unknown>;
  /** Characters of the status ConfigMap's data. */
  statusChars: number;
}

/** A build of the job: its entry point and the compile-cache environment it runs with. */
interface Build {
  entry: string;
  cache: NodeJS.ProcessEnv;
  /** The Node options its CronJob gives it (bench/job-node.ts). */
  nodeOptions: string[];
}

async function runJob(lego: string, app: string, build: Build): Promise<Measured> {
  const started = Date.now();
  const { stderr } = await execFileAsync(
    '/usr/bin/time',
    ['-f', 'MAXRSS_KB=%M', node, ...build.nodeOptions, build.entry],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      env: jobEnv(lego, app, 'warn', build.cache),
    },
  ).catch((error: unknown) => {
    const e = error as { stderr?: string };
    throw new Error(`the job failed: ${e.stderr?.slice(-2000) ?? String(error)}`);
  });
  const wallMs = Date.now() - started;
  const maxRssMb = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
  // The summary is at info level; the run logs at warn, so read the status ConfigMap instead.
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  const run = JSON.parse(cm.data?.run ?? '{}') as Record<string, unknown>;
  const statusChars = Object.entries(cm.data ?? {}).reduce(
    (n, [k, v]) => n + k.length + v.length,
    0,
  );
  return { wallMs, maxRssMb, summary: run, statusChars };
}

async function requestsOfRun(lego: string, app: string, build: Build): Promise<number> {
  const { stderr } = await execFileAsync(node, [...build.nodeOptions, build.entry], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
    env: jobEnv(lego, app, 'info', build.cache),
  });
  const line = stderr.split('\n').find((l) => l.includes('"run finished"'));
  return (JSON.parse(line ?? '{}') as { apiRequests?: number }).apiRequests ?? NaN;
}

/**
 * The code this checkout started from: where it branched off `main` (main itself may have moved
 * on), or, on `main` itself, the commit before HEAD — so a bench run on a landed change still
 * compares it with what came before. '' (no baseline) when git cannot tell.
 */
function previousCode(): string {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', root, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    const head = git('rev-parse', 'HEAD');
    const base = git('merge-base', 'HEAD', 'main');
    return base === head ? git('rev-parse', 'HEAD^') : base;
  } catch {
    return '';
  }
}

/**
 * Builds the baseline's job from the tree of `ref` in a temporary directory (this checkout's
 * node_modules linked in); returns its entry point, or `undefined` when there is no baseline.
 */
function buildBaseline(ref: string): (Build & { cleanup: () => void }) | undefined {
  if (ref === '') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bench-baseline-'));
  const archive = execFileSync('git', ['-C', root, 'archive', '--format=tar', ref], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, ['--import', 'tsx', join(dir, 'scripts', 'build-dist.ts')], {
    cwd: dir,
    stdio: 'inherit',
  });
  return {
    entry: join(dir, 'dist', 'jobs', 'main.js'),
    cache: compileCacheEnv(node, dir),
    nodeOptions: cronJobNodeOptions(dir),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describe(runs: Measured[]): string {
  const last = runs[runs.length - 1]!;
  return (
    `wall median ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms ` +
    `(runs ${runs.map((r) => r.wallMs).join(', ')}), peak RSS median ` +
    `${median(runs.map((r) => r.maxRssMb)).toFixed(0)} MB, valid ${String(last.summary.valid)}, ` +
    `failed ${String(last.summary.failed)}, status ConfigMap ${(last.statusChars / 1024).toFixed(0)} KiB`
  );
}

const node = jobNode();
const current: Build = {
  entry: join(root, 'dist', 'jobs', 'main.js'),
  cache: compileCacheEnv(node, root),
  nodeOptions: cronJobNodeOptions(),
};
const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim();
const baseline = buildBaseline(baselineRef);
const baselineName =
  baselineRef === ''
    ? ''
    : `${baselineRef} (${execFileSync('git', ['-C', root, 'rev-parse', '--short', baselineRef]).toString().trim()})`;
console.log(
  `bench:reconcile — a no-op run (every certificate valid), the job on node ${nodeVersion(node)}${current.cache.NODE_COMPILE_CACHE ? ' with the compile cache' : ''}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `  this checkout: ${head}; baseline: ${baseline ? baselineName : 'none'}; ${rounds} alternating rounds each`,
);
console.log(
  `  Node options (each build's manifests/cronjob.yaml): this checkout [${current.nodeOptions.join(' ')}]${baseline ? `, baseline [${baseline.nodeOptions.join(' ')}]` : ''}`,
);
const cmSizes = peers ? sizes.filter((size) => certManagerSizes.includes(size)) : [];
const certManager = cmSizes.length > 0 ? certManagerDir() : undefined;
if (certManager) await installCertManagerCrds(kc, certManager);
console.log(
  `  cert-manager: ${certManager ? `${certManager} at N=${cmSizes.join(', ')}` : 'skipped'}${peers ? '' : ' (BENCH_PEERS=0)'}`,
);

function describePeer(runs: CertManagerRun[]): string {
  const last = runs[runs.length - 1]!;
  const queues = Object.entries(last.queues).filter(([name]) => name.startsWith('certificates-'));
  const retries = Object.values(last.queues).reduce((n, q) => n + q.retries, 0);
  return (
    `wall median ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms (runs ${runs.map((r) => r.wallMs).join(', ')}; ` +
    `synced ${median(runs.map((r) => r.syncedAfterMs)).toFixed(0)} ms after its main started), ` +
    `peak RSS median ${median(runs.map((r) => r.maxRssMb)).toFixed(0)} MB, CPU median ` +
    `${median(runs.map((r) => r.cpuS)).toFixed(2)} s; last run: items finished per certificates ` +
    `queue ${queues.map(([, q]) => q.done).join('/')}, retries ${retries}`
  );
}

try {
  for (const size of sizes) {
    const lego = await createNamespace(`bench-lego-${size}`);
    const legoBase = await createNamespace(`bench-base-${size}`);
    const withPeer = certManager !== undefined && cmSizes.includes(size);
    // A population is usable only if cert-manager's first sync issued nothing: when its informer
    // for Secrets has not synced as it looks at a Certificate, it reads "Secret does not exist"
    // and issues one (seen once at 1,000). That Secret then holds cert-manager's certificate, so
    // neither job's run is a no-op any more (each would try to replace it). Such a population is
    // dropped and a new one built, up to three times.
    let app = '';
    for (let attempt = 1; ; attempt++) {
      app = await createNamespace(`bench-app-${size}`);
      const t0 = Date.now();
      await populate(app, size, withPeer);
      console.log(
        `  ${size} Ingresses + Secrets created in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      if (!withPeer) break;
      await createCertManagerObjects(
        kc,
        app,
        Array.from({ length: size }, (_, i) => ({
          name: `site-${i}-tls`,
          secretName: `site-${i}-tls`,
          host: `site-${i}.bench.example.com`,
        })),
        pool,
      );
      // Before our first run: its one-time writes to the Secrets come before any of ours.
      const first = await runCertManager(
        certManager,
        testEnv().kubeconfig,
        app,
        size,
        certManagerTimeoutMs,
      );
      const state = await certManagerState(kc, app);
      console.log(
        `  N=${size} cert-manager first sync (steady state reached): ${first.wallMs} ms; ` +
          `Certificates Ready ${state.ready}/${state.certificates}, CertificateRequests ${state.certificateRequests}`,
      );
      if (state.certificateRequests === 0) break;
      if (attempt === 3) {
        throw new Error(
          `cert-manager issued certificates in its first sync in three populations of ${size}: no no-op run to compare`,
        );
      }
      console.log(
        `  N=${size} cert-manager issued in its first sync (its Secret cache was not yet synced): this population is not a no-op; building another`,
      );
    }
    // First runs write each status ConfigMap (this checkout's records the Secrets' facts).
    const warm = await runJob(lego, app, current);
    if (baseline) await runJob(legoBase, app, baseline);
    const ours: Measured[] = [];
    const theirs: Measured[] = [];
    const peer: CertManagerRun[] = [];
    for (let i = 0; i < rounds; i++) {
      if (baseline) theirs.push(await runJob(legoBase, app, baseline));
      ours.push(await runJob(lego, app, current));
      if (withPeer) {
        peer.push(
          await runCertManager(certManager, testEnv().kubeconfig, app, size, certManagerTimeoutMs),
        );
      }
    }
    const requests = await requestsOfRun(lego, app, current);
    console.log(
      `  N=${size} this checkout: ${describe(ours)}; first run ${warm.wallMs} ms; API requests ${requests}`,
    );
    if (baseline) {
      const baseRequests = await requestsOfRun(legoBase, app, baseline);
      console.log(`  N=${size} baseline:      ${describe(theirs)}; API requests ${baseRequests}`);
      const ratio = (f: (m: Measured) => number) =>
        (median(ours.map(f)) / median(theirs.map(f))).toFixed(2);
      console.log(
        `  N=${size} ratio this/baseline: wall ${ratio((m) => m.wallMs)}×, peak RSS ${ratio((m) => m.maxRssMb)}×`,
      );
    }
    if (peer.length > 0) {
      const state = await certManagerState(kc, app);
      console.log(
        `  N=${size} cert-manager restart: ${describePeer(peer)}; after the rounds: Certificates ` +
          `Ready ${state.ready}/${state.certificates}, CertificateRequests ${state.certificateRequests}`,
      );
      console.log(
        `  N=${size} ratio this/cert-manager: wall ` +
          `${(median(ours.map((m) => m.wallMs)) / median(peer.map((m) => m.wallMs))).toFixed(2)}× ` +
          `(target ≤ 0.5×), peak RSS ` +
          `${(median(ours.map((m) => m.maxRssMb)) / median(peer.map((m) => m.maxRssMb))).toFixed(2)}×`,
      );
    }
  }
} finally {
  baseline?.cleanup();
}
console.log(
  `  load at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
