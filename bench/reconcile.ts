/**
 * `npm run bench:reconcile`: the cost of a no-op run. Against the real apiserver of the test
 * environment (test/env/with-env.sh starts it), creates N annotated Ingresses whose Secrets hold
 * valid certificates, runs the job as the CronJob would, and prints wall time, API requests and
 * the job's peak memory. Measured for N = 1,000 and 5,000 (override: BENCH_SIZES=100,1000).
 * The job runs from the build (`dist/`, as in the image), so its memory is the product's, not
 * the TypeScript loader's. Prints figures; asserts nothing.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import forge from 'node-forge';
import { adminKubeConfig, createNamespace, testEnv } from '../test/env/context.js';
import { annotatedIngress } from '../test/support/fixtures.js';

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, '..');
const sizes = (process.env.BENCH_SIZES ?? '1000,5000').split(',').map(Number);
const directoryUrl = 'https://acme.invalid/directory';

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

async function populate(namespace: string, count: number): Promise<void> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  await pool(indexes, 16, async (i) => {
    const host = `site-${i}.bench.example.com`;
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: `site-${i}-tls`,
          annotations: { 'kube-lego.io/directory-url': directoryUrl },
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
function jobEnv(lego: string, app: string, level: 'warn' | 'info'): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: testEnv().kubeconfig,
    LEGO_NAMESPACE: lego,
    LEGO_WATCH_NAMESPACE: app,
    LEGO_URL: directoryUrl,
    LEGO_LOG_TYPE: 'json',
    LEGO_LOG_LEVEL: level,
  };
}

async function runJob(
  lego: string,
  app: string,
): Promise<{ wallMs: number; maxRssMb: number; summary: Record<string, unknown> }> {
  const started = Date.now();
  const { stderr } = await execFileAsync(
    '/usr/bin/time',
    ['-f', 'MAXRSS_KB=%M', process.execPath, join(root, 'dist', 'jobs', 'main.js')],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      env: jobEnv(lego, app, 'warn'),
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
  return { wallMs, maxRssMb, summary: run };
}

async function requestsOfRun(lego: string, app: string): Promise<number> {
  const { stderr } = await execFileAsync(
    process.execPath,
    [join(root, 'dist', 'jobs', 'main.js')],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      env: jobEnv(lego, app, 'info'),
    },
  );
  const line = stderr.split('\n').find((l) => l.includes('"run finished"'));
  return (JSON.parse(line ?? '{}') as { apiRequests?: number }).apiRequests ?? NaN;
}

console.log(`bench:reconcile — a no-op run (every certificate valid), node ${process.version}`);
for (const size of sizes) {
  const lego = await createNamespace(`bench-lego-${size}`);
  const app = await createNamespace(`bench-app-${size}`);
  const t0 = Date.now();
  await populate(app, size);
  console.log(
    `  ${size} Ingresses + Secrets created in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const warm = await runJob(lego, app); // first run also creates the status ConfigMap
  const measured = await runJob(lego, app);
  const requests = await requestsOfRun(lego, app);
  console.log(
    `  N=${size}: wall ${measured.wallMs} ms (first run ${warm.wallMs} ms), API requests ${requests}, ` +
      `peak RSS ${measured.maxRssMb.toFixed(0)} MB, valid ${String(measured.summary.valid)}, failed ${String(measured.summary.failed)}`,
  );
}
