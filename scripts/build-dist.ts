/**
 * `npm run build`: writes the two programs of the image, `dist/jobs/main.js` and
 * `dist/responder/main.js`, as bundles (esbuild, one build each), plus the chunks they load
 * lazily or share among their own modules, in `dist/chunks/`. Usage: `node --import tsx scripts/build-dist.ts [outDir]` (default `dist`).
 *
 * Why a bundle (issue 13, measured by `npm run bench:startup`): Node resolves, reads and compiles
 * every module file on start, and `@kubernetes/client-node` alone is hundreds of files. One file
 * per program, tree-shaken, starts several times faster than the `tsc` output module by module,
 * and the job's command modules, the ACME side and node-forge stay in chunks that load only when
 * used (`--help` loads no Kubernetes client; a run with nothing to order loads no ACME code).
 *
 * Beside the job's bundle it writes `dist/jobs/help.json`, the job's `--help` texts rendered by
 * yargs now (scripts/render-help.ts), which `--help` prints without loading yargs
 * (jobs/help-table.ts).
 *
 * The tests run these same files (test/run-tests.sh builds them first), not the TypeScript
 * sources, so what they prove is what the image runs.
 *
 * acme-client stays an ordinary dependency (external): jobs/acme/acme-http.ts reaches the axios
 * copy that acme-client itself resolves, which only exists as a node_modules package.
 */
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HELP_TABLE_FILE } from '../jobs/help-table.js';
import { renderHelpTable } from './render-help.js';

const root = join(import.meta.dirname, '..');
const outdir = resolve(process.argv[2] ?? join(root, 'dist'));

rmSync(outdir, { recursive: true, force: true });
// One build per program: built together, esbuild splits what the two share into chunks of their
// own, and a run of the job loaded 17 files instead of 11, which cost it some 3 ms of its start
// (issue 13; medians of 61, Node 24). Their chunks share dist/chunks/: names are content hashes,
// so a chunk both builds write is the same file.
const outputs: string[] = [];
for (const program of ['jobs', 'responder']) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [`${program}/main`]: `${program}/main.ts` },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // package.json's engines: Node 20.19 and later (the image runs Node 24).
    target: 'node20.19',
    chunkNames: 'chunks/[name]-[hash]',
    external: ['acme-client'],
    // Some bundled dependencies are CommonJS and call require() for Node's own modules; an ES
    // module has no require, so each output file gets one.
    banner: {
      js: "import { createRequire as kubeLegoCreateRequire } from 'node:module'; const require = kubeLegoCreateRequire(import.meta.url);",
    },
    // Whitespace and syntax only: function names stay readable in stack traces and heap snapshots.
    minifyWhitespace: true,
    minifySyntax: true,
    // No source maps: a map names its sources relative to where it is written, which would make
    // the chunk names (content hashes) depend on the output folder, and test/image checks that the
    // image holds exactly what `npm run build` writes. Stack traces keep the function names.
    sourcemap: false,
    // The licences of the bundled packages travel with the image.
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  outputs.push(...Object.keys(result.metafile.outputs));
}
// The job's --help texts, rendered now so that --help need not load yargs (jobs/help-table.ts).
writeFileSync(join(outdir, 'jobs', HELP_TABLE_FILE), JSON.stringify(await renderHelpTable()));
const files = new Set(outputs.filter((f) => f.endsWith('.js')));
process.stderr.write(`[build] ${files.size} files in ${outdir}\n`);
