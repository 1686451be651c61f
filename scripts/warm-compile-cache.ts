/**
 * Fills Node's module compile cache for the image at build time, so that every start of the job
 * and the responder reads compiled code instead of compiling it (issue 13, item 1; measured by
 * `npm run bench:startup`). Both image builds run it with the image's own Node binary, on the
 * files laid out as in the image:
 *
 *   node scripts/warm-compile-cache.ts APP_DIR [--user UID:GID]
 *     [--job-node-options=FLAGS] [--responder-node-options=FLAGS]
 *
 * APP_DIR holds package.json, node_modules/ and dist/ (the image's /app). The cache is written to
 * APP_DIR/.node-compile-cache, which the image names in NODE_COMPILE_CACHE, with
 * NODE_COMPILE_CACHE_PORTABLE=1: entries are then keyed by the module's path relative to the
 * cache, so a cache filled in a build folder is found at /app (test/image/build.sh warms outside
 * /app). Node checks each entry against the module's size and CRC32 before using it, and V8 checks
 * its own version and flags; a mismatch costs a compile, never a failure.
 *
 * What it loads: `dist/jobs/main.js --help`, `dist/responder/main.js --help` (each entry point
 * and its static imports) and a process that imports every chunk of `dist/chunks/` (the command
 * modules, the Kubernetes client, the ACME side and acme-client from node_modules, which the
 * entry points import on demand). Node writes the code cache of a module when it compiles it,
 * before it runs, so importing a module caches the same code as running it.
 *
 * Each program is warmed with the Node options the manifests start it with (FLAGS: separated by
 * spaces; scripts/node-options.ts prints them, and the Dockerfile's test checks they are the
 * manifests'), the chunks once under each program's: V8 files the cache under a tag that some
 * flags change (`--optimize-for-size`, `--expose-gc`), and a process started with other flags
 * never reads it.
 *
 * Node names the cache's subfolder after its version, V8's cache tag and the real user id, so
 * the cache is only found by a process of that user. With `--user` (needs root) the warming
 * processes run as that user (the image's 65532, as the manifests run it) in a cache folder it
 * may write; afterwards the folder belongs to root and no one else may write it, like the rest
 * of /app. Node never writes into a cache folder it cannot write to and says nothing about it
 * (the image's root file system is read-only), so a process of another user simply compiles.
 *
 * Runs on Node 22.1 or later (24 in the image), which runs this file without a loader.
 * @throws exits 1 naming the step when a warming process fails or the cache stays empty.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** The cache's folder inside the application folder; the image's NODE_COMPILE_CACHE names it. */
const CACHE_FOLDER = '.node-compile-cache';

function fail(message: string): never {
  process.stderr.write(`[warm-compile-cache] FAILED: ${message}\n`);
  process.exit(1);
}

/** Every file under `dir`, folders first walked in name order. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? files(path) : [path];
    });
}

/** `UID:GID` as numbers. */
function parseUser(text: string): { uid: number; gid: number } {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match) fail(`--user takes UID:GID (numbers), not ${text}`);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

const { values, positionals } = parseArgs({
  options: {
    user: { type: 'string' },
    'job-node-options': { type: 'string', default: '' },
    'responder-node-options': { type: 'string', default: '' },
  },
  allowPositionals: true,
});
const flags = (text: string) => text.split(' ').filter((flag) => flag !== '');
const jobFlags = flags(values['job-node-options']);
const responderFlags = flags(values['responder-node-options']);
const [appArgument] = positionals;
if (positionals.length !== 1 || appArgument === undefined) {
  fail('usage: warm-compile-cache.ts APP_DIR [--user UID:GID]');
}
const app = resolve(appArgument);
const cache = join(app, CACHE_FOLDER);
const user = values.user === undefined ? undefined : parseUser(values.user);
if (!existsSync(join(app, 'dist', 'jobs', 'main.js'))) fail(`${app}/dist/jobs/main.js is missing`);

mkdirSync(cache, { recursive: true, mode: 0o755 });
if (user) chownSync(cache, user.uid, user.gid);

const chunks = files(join(app, 'dist', 'chunks'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => pathToFileURL(f).href);
const importChunks = `for (const url of ${JSON.stringify(chunks)}) await import(url);`;
const chunkStep = ['--input-type=module', '--eval', importChunks];
const steps: [string, string[]][] = [
  ['the job', [...jobFlags, 'dist/jobs/main.js', '--help']],
  ["the chunks, with the job's options", [...jobFlags, ...chunkStep]],
  ['the responder', [...responderFlags, 'dist/responder/main.js', '--help']],
  ["the chunks, with the responder's options", [...responderFlags, ...chunkStep]],
];
for (const [name, args] of steps) {
  const result = spawnSync(process.execPath, args, {
    cwd: app,
    // Only what the image sets for Node: no LEGO_ setting reaches the programs.
    env: { NODE_ENV: 'production', NODE_COMPILE_CACHE: cache, NODE_COMPILE_CACHE_PORTABLE: '1' },
    encoding: 'utf8',
    ...user,
  });
  if (result.status !== 0) {
    fail(`${name}: node ${args.slice(0, 3).join(' ')} exited ${result.status}\n${result.stderr}`);
  }
}

const entries = files(cache);
if (entries.length === 0) fail(`no cache entry was written under ${cache}`);
// The rest of the image's files belong to root and are read-only for everyone else.
const folders = readdirSync(cache).map((name) => join(cache, name));
for (const path of [cache, ...folders, ...entries]) {
  if (user) chownSync(path, 0, 0);
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
}
const bytes = entries.reduce((sum, f) => sum + statSync(f).size, 0);
process.stderr.write(
  `[warm-compile-cache] ${entries.length} entries, ${(bytes / 1e6).toFixed(1)} MB in ${cache}\n`,
);
