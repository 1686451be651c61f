/**
 * The image built without Docker (test/image/build.sh) against the Dockerfile, the documented
 * build: the same configuration (user, working directory, entry point, command, environment,
 * ports, labels), the same runtime (Node 24, the version the second test run uses), the same
 * files under /app as the Dockerfile's build and warm stages make (package.json, the production
 * node_modules of the lock file, dist/ as `npm run build` compiles it, Node's compile cache for
 * the image's Node and user), and what distroless promises: no shell, no package manager, a
 * nonroot user 65532 with no login shell. Prints its size. The image is built by `npm test`
 * before the tests (test/run-tests.sh).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { execForm, keyValues, parseDockerfile } from '../deploy/dockerfile.js';
import { blobPath, readImage, ROOT, Setup, unpackImage, type OciImage } from './oci-image.js';

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const runtimeStage = Math.max(...dockerfile.map((i) => i.stage));
const runtime = dockerfile.filter((i) => i.stage === runtimeStage);
const last = (keyword: string) => runtime.filter((i) => i.keyword === keyword).at(-1)?.text;
const NODE24_VERSION = /^NODE24_VERSION=(\S+)$/m.exec(
  readFileSync(join(ROOT, 'test', 'env', 'install-node24.sh'), 'utf8'),
)?.[1];
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every path under `dir`, relative to it, folders with a trailing slash. */
function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) out.push(`${relative(base, path)}/`, ...walk(path, base));
    else out.push(relative(base, path));
  }
  return out;
}

let image: OciImage;
let work: string;
let rootfs: string;

const setup = new Setup();

before(() =>
  setup.run(() => {
    image = readImage();
    work = mkdtempSync(join(tmpdir(), 'kube-lego-image-test-'));
    unpackImage(join(work, 'image'));
    rootfs = join(work, 'image', 'rootfs');
  }),
);

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the image and the Dockerfile', () => {
  test('the same user, working directory, entry point, command and ports', () => {
    setup.check();
    const { config } = image.config;
    assert.equal(config.User, last('USER'));
    assert.equal(config.WorkingDir, last('WORKDIR'));
    assert.deepEqual(config.Entrypoint, execForm(last('ENTRYPOINT') ?? ''));
    assert.deepEqual(config.Cmd, execForm(last('CMD') ?? ''));
    const exposed = runtime
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.text.split(/\s+/))
      .map((port) => (port.includes('/') ? port : `${port}/tcp`));
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}).sort(), exposed.sort());
    assert.equal(image.config.os, 'linux');
    assert.equal(image.config.architecture, 'amd64');
  });

  test('the Dockerfile’s environment and labels', () => {
    setup.check();
    const env = Object.fromEntries(
      (image.config.config.Env ?? []).map((e) => [
        e.slice(0, e.indexOf('=')),
        e.slice(e.indexOf('=') + 1),
      ]),
    );
    const wantEnv = Object.assign(
      {},
      ...runtime.filter((i) => i.keyword === 'ENV').map((i) => keyValues(i.text)),
    ) as Record<string, string>;
    assert.ok(Object.keys(wantEnv).length > 0, 'the Dockerfile sets ENV');
    for (const [key, value] of Object.entries(wantEnv)) assert.equal(env[key], value, key);
    const wantLabels = Object.assign(
      {},
      ...runtime.filter((i) => i.keyword === 'LABEL').map((i) => keyValues(i.text)),
    ) as Record<string, string>;
    assert.ok(Object.keys(wantLabels).length > 0, 'the Dockerfile sets LABELs');
    for (const [key, value] of Object.entries(wantLabels)) {
      assert.equal(image.config.config.Labels?.[key], value, key);
    }
  });

  test('the same Node major as the Dockerfile’s runtime, at the version the tests run on', () => {
    setup.check();
    const from = runtime.find((i) => i.keyword === 'FROM')!.text;
    const major = /nodejs(\d+)-/.exec(from)?.[1];
    assert.ok(major, `a distroless nodejs image: ${from}`);
    assert.equal(NODE24_VERSION?.split('.')[0], major);
    // The binary's version string, from the image's own file (run under runc by run.test.ts).
    const node = readFileSync(join(rootfs, 'nodejs', 'bin', 'node'));
    assert.ok(node.includes(Buffer.from(`v${NODE24_VERSION}`)), `node v${NODE24_VERSION}`);
  });
});

describe('the files under the working directory', () => {
  test('are what the Dockerfile copies: package.json, node_modules/, dist/ and the compile cache', () => {
    setup.check();
    const app = join(rootfs, 'app');
    assert.deepEqual(readdirSync(app).sort(), [
      '.node-compile-cache',
      'dist',
      'node_modules',
      'package.json',
    ]);
    assert.equal(
      readFileSync(join(app, 'package.json'), 'utf8'),
      readFileSync(join(ROOT, 'package.json'), 'utf8'),
    );
    for (const path of walk(app)) {
      const stat = statSync(join(app, path));
      assert.equal(stat.uid, 0, `${path} belongs to root`);
      assert.equal(stat.mode & 0o022, 0, `${path} is not writable by the user`);
    }
  });

  test('dist/ is what `npm run build` compiles from this checkout', () => {
    setup.check();
    const fresh = join(work, 'dist');
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts', 'build-dist.ts'), fresh],
      { cwd: ROOT, stdio: 'inherit' },
    );
    const inImage = join(rootfs, 'app', 'dist');
    const files = walk(fresh);
    assert.deepEqual(walk(inImage), files);
    assert.ok(files.includes('jobs/main.js') && files.includes('responder/main.js'));
    // Source maps name their sources relative to the output folder: they differ by location only.
    for (const file of files.filter((f) => !f.endsWith('/') && !f.endsWith('.map'))) {
      assert.ok(
        readFileSync(join(inImage, file)).equals(readFileSync(join(fresh, file))),
        `${file} differs`,
      );
    }
  });

  test('Node’s compile cache: for the image’s Node and user, an entry per file, named in ENV', () => {
    setup.check();
    const env = Object.fromEntries(
      (image.config.config.Env ?? []).map((e) => [
        e.slice(0, e.indexOf('=')),
        e.slice(e.indexOf('=') + 1),
      ]),
    );
    // The Dockerfile's ENV says the same (checked above, key by key).
    assert.equal(env.NODE_COMPILE_CACHE, `${image.config.config.WorkingDir}/.node-compile-cache`);
    assert.equal(env.NODE_COMPILE_CACHE_PORTABLE, '1');
    const cache = join(rootfs, env.NODE_COMPILE_CACHE);
    // Node's folder: its version, architecture, V8's cache tag and the user id of the process.
    // One per program at most: the job's and the responder's Node options may change the tag
    // (run.test.ts checks that each program reads its own).
    const uid = image.config.config.User!.split(':')[0];
    const folders = readdirSync(cache);
    assert.ok(folders.length >= 1 && folders.length <= 2, folders.join(', '));
    // One per module compiled: every file of dist/ and the node_modules files acme-client loads.
    const distFiles = walk(join(rootfs, 'app', 'dist')).filter((f) => f.endsWith('.js'));
    for (const folder of folders) {
      assert.match(folder, new RegExp(`^v${NODE24_VERSION}-x64-[0-9a-f]{8}-${uid}$`));
      const entries = readdirSync(join(cache, folder));
      assert.ok(
        entries.length > distFiles.length,
        `${folder}: ${entries.length} entries for ${distFiles.length} files of dist/`,
      );
      for (const entry of entries) {
        const stat = statSync(join(cache, folder, entry));
        assert.ok(stat.isFile() && stat.size > 0, entry);
        assert.equal(stat.mode & 0o004, 0o004, `${entry} is readable by the user`);
      }
    }
  });

  test('node_modules holds exactly the production packages of the lock file, no dev dependency', () => {
    setup.check();
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; version?: string }>;
    };
    const production = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true)
      .map(([path, entry]) => `${path}@${entry.version}`)
      .sort();
    const installed: string[] = [];
    const find = (dir: string) => {
      for (const name of readdirSync(join(rootfs, 'app', dir))) {
        if (name.startsWith('.')) continue;
        const path = `${dir}/${name}`;
        if (name.startsWith('@')) {
          find(path);
          continue;
        }
        const manifest = join(rootfs, 'app', path, 'package.json');
        if (!existsSync(manifest)) continue;
        installed.push(
          `${path}@${(JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version}`,
        );
        if (existsSync(join(rootfs, 'app', path, 'node_modules'))) find(`${path}/node_modules`);
      }
    };
    find('node_modules');
    assert.deepEqual(installed.sort(), production);
    for (const name of Object.keys(packageJson.dependencies)) {
      assert.ok(
        installed.some((p) => p.startsWith(`node_modules/${name}@`)),
        `${name} is in`,
      );
    }
    // A devDependency may also be a production package's dependency (js-yaml, @types/node of
    // client-node): only what the lock marks dev-only must stay out.
    const devOnly = Object.keys(packageJson.devDependencies).filter(
      (name) => lock.packages[`node_modules/${name}`]?.dev === true,
    );
    assert.ok(devOnly.includes('typescript') && devOnly.includes('eslint'));
    const devInside = installed.filter((p) =>
      devOnly.includes(p.replace(/^.*node_modules\//, '').replace(/@[^@]*$/, '')),
    );
    assert.deepEqual(devInside, [], 'no dev dependency inside');
  });
});

describe('what distroless promises', () => {
  test('no shell and no package manager: /bin/sh is absent, and no such program anywhere', () => {
    setup.check();
    assert.equal(existsSync(join(rootfs, 'bin', 'sh')), false, '/bin/sh is absent');
    const banned = new Set([
      'sh',
      'bash',
      'dash',
      'busybox',
      'ash',
      'zsh',
      'apt',
      'apt-get',
      'dpkg',
      'perl',
      'python3',
    ]);
    const found = walk(rootfs).filter((p) => banned.has(p.split('/').at(-1)!));
    assert.deepEqual(found, []);
  });

  test('nonroot is 65532 with its home; no account has a login shell', () => {
    setup.check();
    const passwd = readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(':'));
    const nonroot = passwd.find((f) => f[0] === 'nonroot');
    assert.deepEqual(nonroot?.slice(2, 4), ['65532', '65532']);
    assert.equal(nonroot?.[5], '/home/nonroot');
    assert.equal(statSync(join(rootfs, 'home', 'nonroot')).uid, 65532);
    assert.deepEqual(
      passwd.filter((f) => f[6] !== '/sbin/nologin').map((f) => f[0]),
      [],
    );
    assert.match(readFileSync(join(rootfs, 'etc', 'group'), 'utf8'), /^nonroot:x:65532:$/m);
  });

  test('the Debian packages’ files: the C and C++ runtime, CA certificates, time zones', () => {
    setup.check();
    for (const file of [
      'lib64/ld-linux-x86-64.so.2',
      'lib/x86_64-linux-gnu/libc.so.6',
      'usr/lib/x86_64-linux-gnu/libstdc++.so.6',
      'lib/x86_64-linux-gnu/libgcc_s.so.1',
      'usr/share/zoneinfo/Europe/Berlin',
    ]) {
      assert.ok(existsSync(join(rootfs, file)), file);
    }
    const bundle = readFileSync(join(rootfs, 'etc', 'ssl', 'certs', 'ca-certificates.crt'), 'utf8');
    assert.ok((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length > 100, 'the Mozilla CA bundle');
    const pins = /^DEBIAN_PACKAGES="([^"]+)"/m
      .exec(readFileSync(join(ROOT, 'test', 'image', 'versions.env'), 'utf8'))![1]!
      .split(' ');
    for (const pin of pins) {
      const name = pin.split('=')[0]!;
      assert.ok(
        existsSync(join(rootfs, 'usr', 'share', 'doc', name, 'copyright')),
        `${name}'s copyright`,
      );
    }
  });

  test('its size (printed)', (t) => {
    setup.check();
    const packed = image.layers.reduce((sum, l) => sum + l.size, 0);
    const unpacked = image.layers.map((l) => gunzipSync(readFileSync(blobPath(l.digest))).length);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const line = `image size: ${mb(packed)} MB compressed, ${mb(unpacked.reduce((a, b) => a + b, 0))} MB unpacked (layers ${unpacked.map(mb).join(' + ')} MB)`;
    t.diagnostic(line);
    console.log(`[image] ${line}`);
    assert.equal(image.layers.length, 3, 'Debian packages, Node, the application');
  });
});
