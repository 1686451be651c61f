/**
 * Which Node the benchmarks run the job on, and how: as the image runs it. The image runs Node 24
 * (test/env/install-node24.sh caches the same build) with the compile cache it bakes in
 * (scripts/warm-compile-cache.ts; NODE_COMPILE_CACHE with NODE_COMPILE_CACHE_PORTABLE), so a
 * figure measured on npm's Node 20 without the cache is not the product's. BENCH_JOB_NODE picks
 * another Node (then the cache is used only if that Node has one: 22.1 and later). The job runs
 * with the Node options the CronJob gives it (manifests/cronjob.yaml).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { manifestNodeOptions } from '../scripts/node-options.js';

const root = join(import.meta.dirname, '..');
/** Where scripts/warm-compile-cache.ts writes the cache inside an application folder. */
const CACHE_FOLDER = '.node-compile-cache';

/** The image's Node 24 (test/env/install-node24.sh, cached); `undefined` when it cannot be had. */
export function imageNode(): string | undefined {
  try {
    return execFileSync('bash', [join(root, 'test', 'env', 'install-node24.sh')], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined;
  }
}

/** The job's Node: BENCH_JOB_NODE, else the image's Node 24, else the Node running the bench. */
export function jobNode(): string {
  if (process.env.BENCH_JOB_NODE) return process.env.BENCH_JOB_NODE;
  const node = imageNode();
  if (node !== undefined) return node;
  console.log("  (the image's Node 24 could not be installed: the job runs on this Node)");
  return process.execPath;
}

/** `node --version` of `nodeBin`. */
export function nodeVersion(nodeBin: string): string {
  return execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * Fills the compile cache of the build in `appDir` (package.json, node_modules/, dist/) afresh,
 * the way the image's build does, with `nodeBin` and the job's `nodeOptions` (by default those of
 * `appDir`'s manifests/cronjob.yaml; the job must run with the same ones to read the cache), and
 * returns the environment that makes the job read it; `{}` when `nodeBin` has no compile cache
 * (before Node 22.1).
 */
export function compileCacheEnv(
  nodeBin: string,
  appDir: string,
  nodeOptions: string[] = cronJobNodeOptions(appDir),
): NodeJS.ProcessEnv {
  const [major = 0, minor = 0] = nodeVersion(nodeBin).slice(1).split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 1)) return {};
  // Entries of an earlier build (other chunk names) would only take room.
  rmSync(join(appDir, CACHE_FOLDER), { recursive: true, force: true });
  // Warmed with the Node options the job runs with: V8 reads no cache made under other flags.
  execFileSync(
    nodeBin,
    [
      join(root, 'scripts', 'warm-compile-cache.ts'),
      appDir,
      `--job-node-options=${nodeOptions.join(' ')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return {
    NODE_COMPILE_CACHE: join(appDir, CACHE_FOLDER),
    NODE_COMPILE_CACHE_PORTABLE: '1',
  };
}

/**
 * The Node options the CronJob starts the job with: its container's `args` before the program
 * (manifests/cronjob.yaml in `appDir`, this checkout by default; a baseline tree has its own).
 */
export function cronJobNodeOptions(appDir: string = root): string[] {
  return manifestNodeOptions('job', appDir);
}
