/**
 * `npm run bench:startup`: what the job costs before it does any work (issue 13, item 1).
 * Prints figures and ratios; asserts nothing.
 *
 * For each Node (npm's, and the image's Node 24 that test/node24.sh caches), interleaved
 * `--rounds` times so that a noisy machine hits every variant alike, the median wall time, CPU
 * time (user + system; steadier than wall time when other work shares the cores) and peak RSS of:
 *  - `node -e 0`: the baseline every ratio is taken to;
 *  - `--help` and a no-op run (an empty namespace: the run lists, finds nothing, writes its
 *    status and exits) from the bundle `npm run build` writes (what the image runs);
 *  - the same two from a plain `tsc` build, module by module (what the image ran before);
 *  - the bundle with Node's compile cache (NODE_COMPILE_CACHE, Node 22.1 and later), warmed once
 *    by the no-op run itself;
 *  - `--help` and the no-op run with the compile cache as the image has it: filled by
 *    scripts/warm-compile-cache.ts (the script both image builds run) and read with the image's
 *    environment (NODE_COMPILE_CACHE=<app>/.node-compile-cache, NODE_COMPILE_CACHE_PORTABLE=1)
 *    and the CronJob's Node options (manifests/cronjob.yaml).
 * Then, for the no-op run with the image's cache, the start-up before any work alone: the time
 * from spawning the job to the first connection it opens to the API server (a loopback TCP relay
 * in front of the test API server notes it), against `node -e 0`'s whole run in the same rounds.
 * Measured twice: with the test kubeconfig as JSON, which the job reads without a YAML parser, as
 * the CronJob's pod reads its ServiceAccount's files (the figure issue 13 targets), and as kubectl
 * writes it (YAML), for which the job loads js-yaml.
 * The rest of a no-op run is the TLS handshake and the requests, which depend on the API server.
 * The no-op runs need the test API server: run through test/env/with-env.sh (the npm script
 * does).
 *
 *   npm run bench:startup -- [--rounds 7]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { createNamespace, testEnv } from '../test/env/context.js';
import { compileCacheEnv, cronJobNodeOptions, imageNode } from './job-node.js';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, '.tmp', 'bench-startup');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } });
const rounds = Number(values.rounds);

/**
 * The bundle (scripts/build-dist.ts) laid out as the image's /app (package.json, node_modules,
 * dist/), and a module-by-module tsc build, side by side.
 */
function build(): { app: string; bundle: string; tsc: string } {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const app = join(WORK, 'app');
  execFileSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'build-dist.ts'), join(app, 'dist')],
    {
      cwd: ROOT,
      stdio: 'ignore',
    },
  );
  copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
  const tsc = join(WORK, 'tsc');
  writeFileSync(
    join(WORK, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.build.json',
      compilerOptions: { rootDir: '../..', outDir: 'tsc', noEmit: false, sourceMap: false },
      include: ['../../jobs', '../../shared'],
    }),
  );
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(WORK, 'tsconfig.json')],
    { cwd: ROOT, stdio: 'inherit' },
  );
  // ES modules need package.json's "type": "module" beside them, as in the image.
  writeFileSync(join(WORK, 'package.json'), JSON.stringify({ type: 'module' }));
  return { app, bundle: join(app, 'dist', 'jobs', 'main.js'), tsc: join(tsc, 'jobs', 'main.js') };
}

interface Sample {
  ms: number;
  /** User plus system CPU time: steadier than wall time when other work shares the cores. */
  cpuMs: number;
  rssMb: number;
}

/** One process under /usr/bin/time: wall time and peak RSS; fails loudly on a non-zero exit. */
function measure(nodeBin: string, args: string[], env: NodeJS.ProcessEnv): Sample {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M CPU_S=%U+%S', nodeBin, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${nodeBin} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  const rssKb = Number(/MAXRSS_KB=(\d+)/.exec(result.stderr)?.[1] ?? NaN);
  const [, user, system] = /CPU_S=([\d.]+)\+([\d.]+)/.exec(result.stderr) ?? [];
  return { ms, cpuMs: (Number(user) + Number(system)) * 1000, rssMb: rssKb / 1024 };
}

/**
 * A loopback TCP relay in front of the test API server, and two copies of the kubeconfig that
 * point at it: as kubectl writes it (YAML) and as JSON. `firstConnection()` runs a command with
 * one of them and resolves with the milliseconds from spawning it to the first connection the
 * relay accepted (after the command exited, so that the whole run still happens; rejects when it
 * exits non-zero or never connects).
 */
async function apiRelay(): Promise<{
  kubeconfigs: { yaml: string; json: string };
  firstConnection(
    nodeBin: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    kubeconfig: string,
  ): Promise<number>;
  close(): void;
}> {
  const target = new URL(testEnv().apiServerUrl);
  let onConnection: (() => void) | undefined;
  const relay = createServer((client) => {
    onConnection?.();
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayUrl = `https://127.0.0.1:${(relay.address() as AddressInfo).port}`;
  const yamlText = readFileSync(testEnv().kubeconfig, 'utf8').replaceAll(
    testEnv().apiServerUrl,
    relayUrl,
  );
  const kubeconfigs = {
    yaml: join(WORK, 'relay-kubeconfig.yaml'),
    json: join(WORK, 'relay-kubeconfig.json'),
  };
  writeFileSync(kubeconfigs.yaml, yamlText);
  writeFileSync(kubeconfigs.json, JSON.stringify(yaml.load(yamlText)));
  return {
    kubeconfigs,
    close: () => relay.close(),
    firstConnection: (nodeBin, args, env, kubeconfig) =>
      new Promise((resolve, reject) => {
        let first: number | undefined;
        const started = process.hrtime.bigint();
        onConnection = () => {
          first ??= Number(process.hrtime.bigint() - started) / 1e6;
        };
        const child = spawn(nodeBin, args, {
          cwd: ROOT,
          env: { ...env, KUBECONFIG: kubeconfig },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => {
          onConnection = undefined;
          if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}:\n${stderr}`));
          else if (first === undefined) reject(new Error(`${args.join(' ')} never connected`));
          else resolve(first);
        });
      }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const { app: appDir, bundle, tsc } = build();
const lego = await createNamespace('bench-startup-lego');
const app = await createNamespace('bench-startup-app');
const runEnv: NodeJS.ProcessEnv = {
  ...process.env,
  KUBECONFIG: testEnv().kubeconfig,
  LEGO_NAMESPACE: lego,
  LEGO_WATCH_NAMESPACE: app,
  LEGO_URL: 'https://acme.invalid/directory',
  LEGO_LOG_LEVEL: 'warn',
};
const relay = await apiRelay();
const jobOptions = cronJobNodeOptions();
const nodes = [process.execPath, imageNode()].filter((n): n is string => !!n && existsSync(n));

console.log(
  `bench:startup — ${rounds} rounds, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (const nodeBin of nodes) {
  const version = execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
  const cacheDir = join(WORK, `compile-cache-${version}`);
  const hasCompileCache = Number(version.slice(1).split('.')[0]) >= 22;
  const variants: [string, string[], NodeJS.ProcessEnv][] = [
    ['node -e 0', ['-e', '0'], process.env],
    ['bundle --help', [bundle, '--help'], process.env],
    ['bundle no-op run', [bundle], runEnv],
    ['tsc build --help', [tsc, '--help'], process.env],
    ['tsc build no-op run', [tsc], runEnv],
  ];
  let imageEnv: NodeJS.ProcessEnv = {};
  if (hasCompileCache) {
    const cached = { ...runEnv, NODE_COMPILE_CACHE: cacheDir };
    measure(nodeBin, [bundle], cached); // warms the cache
    variants.push(['bundle no-op run, compile cache', [bundle], cached]);
    // As the image: filled by the build's script with this Node, read with the image's settings
    // and the CronJob's Node options (the cache is filed under a tag some of them change).
    imageEnv = compileCacheEnv(nodeBin, appDir, jobOptions);
    variants.push(
      [
        'bundle --help, image cache',
        [...jobOptions, bundle, '--help'],
        { ...process.env, ...imageEnv },
      ],
      ['bundle no-op run, image cache', [...jobOptions, bundle], { ...runEnv, ...imageEnv }],
    );
  }
  const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]));
  const toFirstConnection = { json: [] as number[], yaml: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, args, env] of variants) samples.get(name)!.push(measure(nodeBin, args, env));
    for (const format of ['json', 'yaml'] as const) {
      toFirstConnection[format].push(
        await relay.firstConnection(
          nodeBin,
          [...jobOptions, bundle],
          { ...runEnv, ...imageEnv },
          relay.kubeconfigs[format],
        ),
      );
    }
  }
  const base = samples.get('node -e 0')!;
  const baseMs = median(base.map((s) => s.ms));
  console.log(`\n  ${version} (${nodeBin})`);
  const baseCpu = median(base.map((s) => s.cpuMs));
  console.log(
    '  variant                            median ms  × node -e 0   CPU ms  × node -e 0   peak RSS MB',
  );
  for (const [name, list] of samples) {
    const ms = median(list.map((s) => s.ms));
    const cpu = median(list.map((s) => s.cpuMs));
    const rss = median(list.map((s) => s.rssMb));
    console.log(
      `  ${name.padEnd(34)} ${ms.toFixed(0).padStart(9)}  ${(ms / baseMs).toFixed(2).padStart(10)}   ${cpu.toFixed(0).padStart(6)}  ${(cpu / baseCpu).toFixed(2).padStart(10)}   ${rss.toFixed(1).padStart(11)}`,
    );
  }
  for (const [format, says] of [
    ['json', 'a JSON kubeconfig, read as a pod reads its ServiceAccount: no YAML parser'],
    ['yaml', "kubectl's YAML kubeconfig: the job loads js-yaml to read it"],
  ] as const) {
    const firstMs = median(toFirstConnection[format]);
    console.log(
      `  no-op run${hasCompileCache ? ', image cache' : ''}: start-up before any work (spawn to its first API connection), ${says}: ${firstMs.toFixed(0)} ms = ${(firstMs / baseMs).toFixed(2)}× node -e 0`,
    );
  }
}
relay.close();
