/**
 * Layer: integration. The job's command line as a process against the real apiserver: the
 * namespace chosen as kubectl chooses it (flag, LEGO_NAMESPACE, the kubeconfig context's
 * namespace, default), the install found when the chosen namespace has none, a missing
 * kubeconfig said as such, misspelt settings and commands named, `--version`, V8's small heap
 * switched on once the command is loaded unless Node's options chose otherwise, and a reader that
 * goes away (a closed stdout or stderr) costing only the output.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { createNamespace, testEnv } from '../env/context.js';
import { builtEntry } from '../support/built-entry.js';
import { cleanEnv, runJob } from '../support/job-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'kube-lego-cli-'));
const version = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** A copy of the test kubeconfig whose current context names `namespace` (none: undefined). */
function kubeconfigWithNamespace(namespace: string | undefined): string {
  const config = yaml.load(readFileSync(testEnv().kubeconfig, 'utf8')) as {
    'current-context': string;
    contexts: { name: string; context: Record<string, unknown> }[];
  };
  const current = config.contexts.find((c) => c.name === config['current-context']);
  assert.ok(current, 'the test kubeconfig has a current context');
  if (namespace === undefined) delete current.context.namespace;
  else current.context.namespace = namespace;
  const file = join(
    scratch,
    `kubeconfig-${namespace ?? 'none'}-${Math.random().toString(36).slice(2)}`,
  );
  writeFileSync(file, yaml.dump(config));
  return file;
}

let install: string;
let elsewhere: string;

before(async () => {
  install = await createNamespace('cli-install');
  elsewhere = await createNamespace('cli-empty');
  const app = await createNamespace('cli-app');
  // A run over a namespace without Ingresses: the install's status ConfigMap, nothing ordered.
  const run = await runJob({
    LEGO_NAMESPACE: install,
    LEGO_WATCH_NAMESPACE: app,
    LEGO_URL: 'https://acme.invalid/directory',
  });
  assert.equal(run.code, 0, run.stderr);
});

describe('the namespace, as kubectl chooses it', () => {
  test("the kubeconfig context's namespace is used when nothing names one", async () => {
    const result = await runJob({ KUBECONFIG: kubeconfigWithNamespace(install) }, ['status']);
    assert.match(result.stdout, /Last run: /, result.stderr);
  });

  test('--namespace / -n wins over LEGO_NAMESPACE, which wins over the context', async () => {
    const kubeconfig = kubeconfigWithNamespace(elsewhere);
    for (const args of [
      ['status', '-n', install],
      ['status', '--namespace', install],
    ]) {
      const result = await runJob({ KUBECONFIG: kubeconfig, LEGO_NAMESPACE: elsewhere }, args);
      assert.match(result.stdout, /Last run: /, `${args.join(' ')}: ${result.stderr}`);
    }
    const byVariable = await runJob({ KUBECONFIG: kubeconfig, LEGO_NAMESPACE: install }, [
      'status',
    ]);
    assert.match(byVariable.stdout, /Last run: /, byVariable.stderr);
  });

  test('status in a namespace without an install says where the install is', async () => {
    const result = await runJob({ KUBECONFIG: kubeconfigWithNamespace(elsewhere) }, ['status']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `no kube-lego install in namespace ${elsewhere} \\(the kubeconfig context's namespace\\)`,
      ),
    );
    // Other test files may have installs of their own in this apiserver: ours is among them.
    assert.match(result.stderr, new RegExp(`installed in namespaces? [^:]*\\b${install}\\b`));
    assert.doesNotMatch(result.stdout, /No run has finished yet/);
  });

  test('without a namespace in the context: default, and the search still names the install', async () => {
    const result = await runJob({ KUBECONFIG: kubeconfigWithNamespace(undefined) }, ['status']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no kube-lego install in namespace default \(the default: /);
    assert.match(result.stderr, new RegExp(`\\b${install}\\b`));
  });

  test('a run in an unnamed namespace refuses when the install is elsewhere', async () => {
    const result = await runJob(
      {
        KUBECONFIG: kubeconfigWithNamespace(elsewhere),
        LEGO_URL: 'https://acme.invalid/directory',
      },
      [],
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`no kube-lego install in namespace ${elsewhere}`));
    assert.equal(result.summary, undefined, 'no run started');
  });
});

describe('mistakes said plainly', () => {
  test('no kubeconfig at all', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const result = await runJob({ KUBECONFIG: '', HOME: home }, ['status']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /no Kubernetes configuration: KUBECONFIG is not set, ~\/\.kube\/config does not exist/,
    );
    assert.doesNotMatch(result.stderr, /skipTLSVerify/);
  });

  test('a misspelt LEGO_* variable is named with the closest setting', async () => {
    const result = await runJob(
      { LEGO_NAMESPACE: install, LEGO_EMIAL: 'ops@example.com', LEGO_LOG_TYPE: 'json' },
      ['status'],
    );
    const warning = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.variable === 'LEGO_EMIAL');
    assert.ok(warning, result.stderr);
    assert.equal(warning.level, 'warn');
    assert.match(String(warning.msg), /did you mean LEGO_EMAIL\?/);
  });

  test('an unknown command gets "did you mean"', async () => {
    const result = await runJob({ LEGO_NAMESPACE: install }, ['stauts']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "stauts": did you mean status\?/);
  });

  test('--version prints the package version', async () => {
    const result = await runJob({}, ['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });
});

describe("V8's small heap (jobs/lean-heap.ts)", () => {
  const switched = 'V8 switched to --optimize-for-size for the rest of the run';
  /** A no-op run with `nodeOptions` on Node's command line; its log lines that say the switch. */
  const run = async (nodeOptions: string[]) => {
    const result = await runJob(
      {
        LEGO_NAMESPACE: install,
        LEGO_WATCH_NAMESPACE: elsewhere,
        LEGO_URL: 'https://acme.invalid/directory',
        LEGO_LOG_LEVEL: 'debug',
        LEGO_LOG_TYPE: 'json',
      },
      [],
      undefined,
      nodeOptions,
    );
    assert.equal(result.code, 0, result.stderr);
    return result.logs.filter((line) => line.msg === switched);
  };

  test('a run switches it on once its code is loaded', async () => {
    // The CronJob's options (manifests/cronjob.yaml) leave the choice to the job.
    assert.equal((await run(['--max-semi-space-size=1'])).length, 1);
  });

  test("an operator's choice on Node's command line is left alone", async () => {
    for (const choice of ['--no-optimize-for-size', '--optimize_for_size']) {
      assert.deepEqual(await run([choice]), [], choice);
    }
  });
});

describe('a reader that goes away (EPIPE)', () => {
  /**
   * The job with `args` and `env` (plus the test kubeconfig), the read end of its `closed` stream
   * shut before the job can write to it: its exit code and what it wrote on the other stream.
   */
  const withClosed = (closed: 'stdout' | 'stderr', env: Record<string, string>, args: string[]) =>
    new Promise<{ code: number | null; other: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [builtEntry('jobs'), ...args], {
        env: { ...cleanEnv(), KUBECONFIG: testEnv().kubeconfig, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.on('error', reject);
      let other = '';
      child[closed].destroy();
      child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk: Buffer) => {
        other += chunk.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, other });
      });
    });

  test('--help, with or without yargs, and status exit as they would, saying nothing', async () => {
    for (const args of [['--help'], ['status', '--help', '-o', 'json'], ['status']]) {
      const result = await withClosed('stdout', { LEGO_NAMESPACE: install }, args);
      assert.deepEqual(result, { code: 0, other: '' }, args.join(' '));
    }
  });

  test('a run whose log reader is gone still finishes and writes its status', async () => {
    const started = new Date();
    const result = await withClosed(
      'stderr',
      {
        LEGO_NAMESPACE: install,
        LEGO_WATCH_NAMESPACE: elsewhere,
        LEGO_URL: 'https://acme.invalid/directory',
        LEGO_LOG_LEVEL: 'debug',
      },
      [],
    );
    assert.deepEqual(result, { code: 0, other: '' });
    const status = await runJob({ LEGO_NAMESPACE: install }, ['status', '-o', 'json']);
    const { run } = JSON.parse(status.stdout) as { run: { finishedAt: string } | null };
    assert.ok(run && new Date(run.finishedAt) >= started, status.stdout);
  });
});
