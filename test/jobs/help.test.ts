/**
 * Layer: integration. The job's `--help` as a process, from the texts rendered at build time
 * (jobs/help-table.ts) and from yargs, which renders any other command line: the two print the
 * same bytes for every command, with `--help` and `-h`, into a pipe (120 columns) and in a
 * terminal of 80 columns; the table is what answers, and a terminal of another width, a damaged
 * table or none fall back to yargs.
 *
 * The live rendering is asked for with a command line the table does not answer: the same request
 * with a setting beside it (`--log-level info`), which yargs ignores when it prints help.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { JOB_COMMANDS } from '../../jobs/command-line.js';
import { builtEntry } from '../support/built-entry.js';
import { cleanEnv } from '../support/job-process.js';

const root = join(import.meta.dirname, '..', '..');
const LIVE = ['--log-level', 'info'];
const REQUESTS = ['', ...JOB_COMMANDS].flatMap((command) =>
  ['--help', '-h'].map((flag) => (command ? [command, flag] : [flag])),
);

/** The job's output into a pipe, after checking that it exited 0 and wrote nothing else. */
function piped(entry: string, args: string[]): string {
  const result = spawnSync(process.execPath, [entry, ...args], {
    cwd: root,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
  assert.equal(result.stderr, '', args.join(' '));
  return result.stdout;
}

/** The job's output in a terminal of `columns` columns (a pseudo-terminal made by script(1)). */
function inTerminal(args: string[], columns: number): string {
  const command = [process.execPath, builtEntry('jobs'), ...args].map((a) => `'${a}'`).join(' ');
  const result = spawnSync(
    'script',
    ['-qec', `stty cols ${columns} rows 24; exec ${command}`, '/dev/null'],
    { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(result.status, 0, `${args.join(' ')} in ${columns} columns: ${result.stdout}`);
  return result.stdout;
}

/** The widest line of a text. */
const widest = (text: string) => Math.max(...text.split(/\r?\n/).map((line) => line.length));

describe('--help from the texts rendered at build time', () => {
  test('into a pipe: the same bytes as yargs prints, for every command', () => {
    const entry = builtEntry('jobs');
    for (const request of REQUESTS) {
      const cached = piped(entry, request);
      assert.match(cached, /^kube-lego-job /, request.join(' '));
      assert.equal(cached, piped(entry, [...request, ...LIVE]), request.join(' '));
      assert.ok(widest(cached) <= 120, `${request.join(' ')}: wrapped to 120 columns`);
    }
  });

  test('in a terminal of 80 columns: the same bytes as yargs prints', () => {
    for (const request of [['--help'], ['status', '-h'], ['check-routes', '--help']]) {
      const cached = inTerminal(request, 80);
      assert.equal(cached, inTerminal([...request, ...LIVE], 80), request.join(' '));
      assert.ok(widest(cached) <= 80, `${request.join(' ')}: wrapped to 80 columns`);
    }
  });

  test('in a terminal of another width, yargs wraps the help to it', () => {
    const text = inTerminal(['--help'], 100);
    assert.ok(widest(text) <= 100 && widest(text) > 80, `wrapped to 100 columns:\n${text}`);
    assert.equal(text, inTerminal(['--help', ...LIVE], 100));
  });

  test('the table is what answers; a damaged or missing one leaves it to yargs', () => {
    const entry = builtEntry('jobs');
    const expected = piped(entry, ['status', '--help']);
    // A copy of the build beside the same node_modules and package.json (the version).
    const copy = mkdtempSync(join(tmpdir(), 'kube-lego-help-'));
    cpSync(dirname(dirname(entry)), join(copy, 'dist'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    cpSync(join(root, 'package.json'), join(copy, 'package.json'));
    const copied = join(copy, 'dist', 'jobs', 'main.js');
    const table = join(copy, 'dist', 'jobs', 'help.json');
    writeFileSync(table, JSON.stringify({ 120: { status: 'from the table\n' } }));
    assert.equal(piped(copied, ['status', '--help']), 'from the table\n');
    assert.equal(piped(copied, ['plan', '--help']), piped(entry, ['plan', '--help']), 'not held');
    for (const damage of ['{"120": {"status": 7}}', '[]', '{"120": "status"}', 'not json']) {
      writeFileSync(table, damage);
      assert.equal(piped(copied, ['status', '--help']), expected, damage);
    }
    rmSync(table);
    assert.equal(piped(copied, ['status', '--help']), expected, 'no table');
  });
});
