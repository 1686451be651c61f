/**
 * The test runner: starts one environment for the whole run, runs every test file with Node's
 * test runner against it, and stops the environment however the run ends (pass, fail, Ctrl-C,
 * SIGTERM). Test files find the environment through KUBE_LEGO_TEST_ENV (see context.ts).
 *
 *   node --import tsx test/env/run.ts [test files...]   (default: every test/**\/*.test.ts)
 *   node --import tsx test/env/run.ts --exec CMD [ARGS...]   (any program, e.g. a benchmark)
 *
 * Server folders come from KUBE_APISERVER_DIR, ETCD_DIR and PEBBLE_DIR, as printed by
 * test/env/build-servers.sh (test/run-tests.sh wires the two together).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { Environment } from './environment.js';
import { killAllSync } from './server-process.js';

const root = join(import.meta.dirname, '..', '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(
      `test/env/run.ts: ${name} is not set; run the tests with \`npm test\`, which builds the servers first`,
    );
    process.exit(2);
  }
  return value;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const exec = args[0] === '--exec' ? args.slice(1) : undefined;
  const files = args.length > 0 ? args : findTests(join(root, 'test'));
  const command: [string, string[]] = exec
    ? [exec[0] ?? 'true', exec.slice(1)]
    : [
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
      ];
  const started = Date.now();
  process.on('exit', killAllSync);
  let environment: Environment;
  try {
    environment = await Environment.start({
      kubeApiserverDir: required('KUBE_APISERVER_DIR'),
      etcdDir: required('ETCD_DIR'),
      pebbleDir: required('PEBBLE_DIR'),
    });
  } catch (error) {
    console.error(
      `test environment FAILED to start: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  const stateFile = join(environment.state.dir, 'state.json');
  writeFileSync(stateFile, JSON.stringify(environment.state, null, 2));
  console.error(
    `[test-env] ready in ${((Date.now() - started) / 1000).toFixed(1)}s: apiserver ${environment.state.apiServerUrl}, ` +
      `pebble ${environment.state.pebble.directoryUrl} (${environment.state.pebble.version}), files in ${environment.state.dir}`,
  );

  // A bare `node` in anything the tests start (the job, the responder) is this runner's Node, so
  // a run under KUBE_LEGO_NODE (test/run-tests.sh) tests that Node end to end.
  const nodeDir = join(environment.state.dir, 'node-bin');
  mkdirSync(nodeDir);
  symlinkSync(process.execPath, join(nodeDir, 'node'));
  const child = spawn(command[0], command[1], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      PATH: [nodeDir, process.env.PATH].filter(Boolean).join(delimiter),
      KUBE_LEGO_TEST_ENV: stateFile,
      // Child processes (the job, ACME clients) trust Pebble's and the apiserver's test CA.
      NODE_EXTRA_CA_CERTS: environment.state.caFile,
    },
  });
  let interrupted: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    interrupted = signal;
    child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (exitCode, signal) => {
      resolve(exitCode ?? (signal ? 128 : 1));
    });
  });
  const keep = code !== 0 && process.env.KUBE_LEGO_KEEP_ENV === '1';
  await environment.stop(keep);
  if (keep) console.error(`[test-env] kept logs in ${environment.state.dir}`);
  if (interrupted) console.error(`[test-env] interrupted by ${interrupted}; servers stopped`);
  return interrupted ? 130 : code;
}

process.exitCode = await main();
