/**
 * The entry point as a process, without any API server: `--help`, and bad settings (exit 2, the
 * message naming the variable, the value and what is accepted).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { builtEntry } from '../support/built-entry.js';

const ROOT = join(import.meta.dirname, '..', '..');

function run(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('LEGO_') && k !== 'KUBECONFIG'),
  );
  const result = spawnSync(process.execPath, [builtEntry('responder'), ...args], {
    cwd: ROOT,
    env: { ...clean, HOME: '/nonexistent', ...env },
    encoding: 'utf8',
    // A guard against a hung process only: on a loaded machine starting one takes seconds.
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('responder/main.ts', { timeout: 600_000 }, () => {
  test('--help lists every setting with its variable and default', () => {
    const { code, stdout } = run(['--help']);
    assert.equal(code, 0);
    const text = stdout.replace(/\s+/g, ' ');
    const expected: [string, string, string][] = [
      ['--namespace', 'LEGO_NAMESPACE', '"default"'],
      ['--port', 'LEGO_PORT', '"8080"'],
      ['--metrics-port', 'LEGO_METRICS_PORT', '"9090"'],
      ['--bind-address', 'LEGO_BIND_ADDRESS', '""'],
      ['--log-level', 'LEGO_LOG_LEVEL', '"info"'],
      ['--log-type', 'LEGO_LOG_TYPE', '"text"'],
      ['--challenge-configmap', 'LEGO_CHALLENGE_CONFIGMAP', '"kube-lego-challenges"'],
      ['--status-configmap', 'LEGO_STATUS_CONFIGMAP', '"kube-lego-status"'],
    ];
    for (const [flag, env, def] of expected) {
      assert.ok(text.includes(flag), flag);
      assert.ok(text.includes(`env: ${env}]`), env);
      const at = text.indexOf(flag);
      assert.ok(
        text.slice(at, text.indexOf('--', at + flag.length)).includes(`[default: ${def}]`),
        `${flag} ${def}`,
      );
    }
  });

  test('a bad setting exits 2 naming the variable, the value and what is accepted', () => {
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        { LEGO_PORT: '99999' },
        [],
        /LEGO_PORT="99999" is not valid: expected a whole number from 1 to 65535/,
      ],
      [
        { LEGO_METRICS_PORT: 'x' },
        [],
        /LEGO_METRICS_PORT="x" is not valid: expected a whole number/,
      ],
      [
        { LEGO_BIND_ADDRESS: 'localhost' },
        [],
        /LEGO_BIND_ADDRESS="localhost" is not valid: expected an IP address/,
      ],
      [
        { LEGO_LOG_LEVEL: 'loud' },
        [],
        /LEGO_LOG_LEVEL="loud" is not valid: expected one of debug, info, warn, error/,
      ],
      [
        { LEGO_NAMESPACE: 'Not_A_Name' },
        [],
        /LEGO_NAMESPACE="Not_A_Name" is not valid: expected a namespace name/,
      ],
      [{}, ['--port', '0'], /--port="0" is not valid/],
      [
        {},
        ['--metrics-port', '8080'],
        /LEGO_METRICS_PORT="8080" is not valid: expected a port other than LEGO_PORT/,
      ],
      [{}, ['--bogus'], /Unknown argument: bogus/],
    ];
    for (const [env, args, message] of cases) {
      const { code, stderr } = run(args, env);
      assert.equal(code, 2, `${JSON.stringify(env)} ${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
      assert.ok(!stderr.includes('    at '), 'no stack trace');
    }
  });

  test('no API configuration: exit 1 with a clear line, before listening', () => {
    const { code, stderr } = run(['--port', '18999', '--metrics-port', '18998']);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /level=error msg="the responder failed" error="no Kubernetes configuration: KUBECONFIG is not set/,
    );
  });
});
