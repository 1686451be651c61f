/**
 * Layer: integration (build). The container image, checked without a container engine: the Dockerfile copies files that
 * exist and that .dockerignore lets through, runs Node 24 as a non-root user in exec form, and
 * the entry points it and the manifests name are what `npm run build` produces and they start —
 * laid out as in the image (package.json, node_modules, dist/ side by side), with only the
 * production dependencies imported. Run with the image's Node by test/node24.sh (.ci/run).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ts from 'typescript';
import { manifestNodeOptions } from '../../scripts/node-options.js';
import { execForm, parseDockerfile } from './dockerfile.js';
import { ROOT, podTemplates, renderKustomize } from './render.js';

/** COPY's flags and paths: the last path is the destination. */
function copyParts(text: string): { from: string | undefined; sources: string[] } {
  const words = text.split(/\s+/).filter(Boolean);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1) };
}

/** Whether .dockerignore's patterns keep `path` (relative to the context) out of the context. */
function ignoredBy(patterns: string[], path: string): boolean {
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  const parts = clean.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\//, '').replace(/\/$/, '');
    const regex = new RegExp(
      `^${pattern
        .split('**')
        .map((p) =>
          p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}$`,
    );
    // A pattern that matches a folder excludes everything under it.
    for (let i = 1; i <= parts.length; i++) {
      if (regex.test(parts.slice(0, i).join('/'))) ignored = !negate;
    }
  }
  return ignored;
}

function run(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('LEGO_') && k !== 'KUBECONFIG'),
    );
    execFile(
      process.execPath,
      args,
      // A guard against a hung process only, generous for a loaded machine.
      { cwd, env: { ...env, NODE_ENV: 'production' }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? ((error.code as number | null | undefined) ?? 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

const dockerfileSource = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerfile = parseDockerfile(dockerfileSource);
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const froms = dockerfile.filter((i) => i.keyword === 'FROM');
const runtimeStage = froms.length - 1;
const runtime = dockerfile.filter((i) => i.stage === runtimeStage);
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** The Node 24 of the image and of the second test run (test/env/install-node24.sh pins it). */
const node24Version = /^NODE24_VERSION=(\S+)$/m.exec(
  readFileSync(join(ROOT, 'test', 'env', 'install-node24.sh'), 'utf8'),
)?.[1];

describe('the Dockerfile', () => {
  test('has a build stage and a Node 24 runtime stage, the Node the tests run on', () => {
    assert.ok(froms.length >= 2, 'multi-stage');
    assert.match(froms[0]!.text, /\bnode:24[-.\w]*\s+AS\s+build$/i);
    assert.match(froms[runtimeStage]!.text, /nodejs24/);
    assert.equal(node24Version?.split('.')[0], '24', 'test/env/install-node24.sh pins a Node 24');
  });

  test('needs no Node binary package: neither package.json nor the Dockerfile names one', () => {
    // A Node binary as a dependency would be first on every npm script's PATH and make `npm ci`
    // refuse any platform but its own; test/node24.sh installs it into a cache instead.
    for (const deps of [packageJson.dependencies, packageJson.devDependencies]) {
      assert.deepEqual(
        Object.keys(deps).filter((name) => /^node(-(linux|darwin|win)-\w+)?$/.test(name)),
        [],
      );
    }
    assert.doesNotMatch(dockerfileSource, /node-(linux|darwin|win)-/);
  });

  test('every COPY from the context names a file that exists and is not ignored', () => {
    const copies = dockerfile.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      const { from, sources } = copyParts(copy.text);
      if (from !== undefined) continue;
      for (const source of sources) {
        assert.ok(existsSync(join(ROOT, source)), `${source} (COPY ${copy.text}) does not exist`);
        assert.equal(ignoredBy(ignore, source), false, `${source} is excluded by .dockerignore`);
      }
    }
  });

  test('.dockerignore keeps tests, docs, git and local builds out', () => {
    for (const path of ['.git', 'node_modules', 'dist', 'test/env/run.ts', 'README.md', 'docs']) {
      assert.equal(ignoredBy(ignore, path), true, path);
    }
  });

  test('builds with the npm scripts and keeps production dependencies only', () => {
    const runs = dockerfile.filter((i) => i.keyword === 'RUN').map((i) => i.text);
    assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)));
    assert.ok(runs.some((r) => /\bnpm run build\b/.test(r)));
    assert.ok(runs.some((r) => /\bnpm prune --omit=dev\b/.test(r)));
    assert.ok(packageJson.scripts.build);
    // The runtime stage takes only package.json, the pruned node_modules and dist/ from the
    // build, and Node's compile cache from the warm stage.
    const runtimeCopies = runtime.filter((i) => i.keyword === 'COPY').map((i) => copyParts(i.text));
    assert.deepEqual(
      runtimeCopies
        .filter((c) => c.from === 'build')
        .flatMap((c) => c.sources)
        .sort(),
      ['/app/dist/', '/app/node_modules/', '/app/package.json'],
    );
    assert.deepEqual(
      runtimeCopies.filter((c) => c.from !== 'build'),
      [{ from: 'warm', sources: ['/app/.node-compile-cache/'] }],
    );
    assert.equal(
      runtime.some((i) => i.keyword === 'RUN'),
      false,
      'no RUN (and no shell) in the runtime stage',
    );
  });

  test('fills the compile cache with the runtime’s own Node, from the files the runtime gets', () => {
    const warm = froms.findIndex((i) => /\bAS\s+warm$/i.test(i.text));
    assert.ok(warm > 0 && warm < runtimeStage, 'a warm stage before the runtime stage');
    const image = (text: string) => text.split(/\s+/).find((w) => !w.startsWith('--'));
    assert.equal(image(froms[warm]!.text), image(froms[runtimeStage]!.text), 'the same base image');
    const stage = dockerfile.filter((i) => i.stage === warm);
    const copies = stage.filter((i) => i.keyword === 'COPY').map((i) => copyParts(i.text));
    const runtimeCopies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.text);
    // The same files at the same paths as in the runtime stage (the cache keys are their paths).
    for (const copy of runtimeCopies.filter((c) => c.includes('--from=build'))) {
      assert.ok(
        stage.some((i) => i.keyword === 'COPY' && i.text === copy),
        `the warm stage copies ${copy}`,
      );
    }
    assert.equal(
      stage.find((i) => i.keyword === 'WORKDIR')?.text,
      runtime.find((i) => i.keyword === 'WORKDIR')?.text,
    );
    assert.ok(copies.some((c) => c.sources.includes('/app/scripts/warm-compile-cache.ts')));
    const runs = stage.filter((i) => i.keyword === 'RUN').map((i) => execForm(i.text));
    assert.deepEqual(runs, [
      [
        execForm(runtime.find((i) => i.keyword === 'ENTRYPOINT')!.text)![0],
        '/warm/warm-compile-cache.ts',
        '/app',
        '--user',
        runtime.filter((i) => i.keyword === 'USER').at(-1)!.text,
        // The manifests' Node options: V8 reads no cache made under other flags.
        `--job-node-options=${manifestNodeOptions('job').join(' ')}`,
        `--responder-node-options=${manifestNodeOptions('responder').join(' ')}`,
      ],
    ]);
  });

  test('runs as a non-root numeric user, in exec form, the job by default', () => {
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1);
    assert.ok(user, 'USER');
    assert.match(user.text, /^[1-9]\d*(:\d+)?$/, 'a numeric, non-zero user');
    const pods = podTemplates(renderKustomize());
    for (const { template } of pods) {
      assert.equal(
        String(template.spec.securityContext?.runAsUser),
        user.text.split(':')[0],
        'the pods run as the image user',
      );
    }
    const entrypoint = execForm(runtime.find((i) => i.keyword === 'ENTRYPOINT')?.text ?? '');
    const cmd = execForm(runtime.find((i) => i.keyword === 'CMD')?.text ?? '');
    assert.ok(entrypoint, 'ENTRYPOINT in exec form');
    assert.ok(cmd, 'CMD in exec form');
    assert.match(entrypoint[0]!, /\/node$/);
    assert.deepEqual(cmd, ['dist/jobs/main.js']);
  });
});

describe('the built entry points, laid out as in the image', () => {
  // /app of the image: package.json, node_modules and dist/ side by side.
  let app: string;
  const entryPoints = () => {
    const runtimeCmd = execForm(runtime.find((i) => i.keyword === 'CMD')!.text)!;
    const fromManifests = podTemplates(renderKustomize()).map(
      // The program is the first argument that is not a Node option (e.g. --max-semi-space-size).
      ({ template }) => template.spec.containers[0]!.args!.find((a) => !a.startsWith('-'))!,
    );
    return [...new Set([runtimeCmd[0]!, ...fromManifests])].sort();
  };

  before(() => {
    app = mkdtempSync(join(tmpdir(), 'kube-lego-image-'));
    copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    // `npm run build`'s bundles (scripts/build-dist.ts), into the image layout instead of ./dist.
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts', 'build-dist.ts'), join(app, 'dist')],
      { cwd: ROOT, stdio: 'inherit' },
    );
  });

  after(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  test('the image and the manifests name the job and the responder, and the build makes both', () => {
    assert.deepEqual(entryPoints(), ['dist/jobs/main.js', 'dist/responder/main.js']);
    for (const entry of entryPoints()) {
      assert.ok(existsSync(join(app, entry)), `${entry} is built`);
    }
  });

  test('they import only Node built-ins, their own files and production dependencies', () => {
    const allowed = new Set(Object.keys(packageJson.dependencies));
    const builtins = new Set(builtinModules);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.js')) files.push(path);
      }
    };
    walk(join(app, 'dist'));
    for (const file of files) {
      // TypeScript's own scanner finds every import, export-from and import() of a file.
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName: spec } of importedFiles) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const pkg = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : spec.split('/')[0]!;
        assert.ok(allowed.has(pkg), `${relative(app, file)} imports ${spec}, not a dependency`);
      }
    }
  });

  for (const entry of ['dist/jobs/main.js', 'dist/responder/main.js']) {
    test(`node ${entry} --help starts and exits 0 on Node ${process.versions.node}`, async () => {
      const result = await run([entry, '--help'], app);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /LEGO_/, 'the help lists the settings');
    });
  }
});
