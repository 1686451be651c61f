/**
 * Layer: unit. The pure parts of the command line: the closest known name for a misspelt
 * setting, the namespace's precedence (kubectl's order), the unknown-variable warnings, and the
 * message that says where an install is.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobSettings } from '../../../jobs/config.js';
import { installHint } from '../../../jobs/commands/install-hint.js';
import { responderSettings } from '../../../responder/settings.js';
import { closestName, editDistance } from '../../../shared/config/closest-name.js';
import { chooseNamespace } from '../../../shared/config/namespace-choice.js';
import {
  describeUnknownVariable,
  findUnknownVariables,
} from '../../../shared/config/unknown-variables.js';

const KNOWN = ['LEGO_EMAIL', 'LEGO_URL', 'LEGO_NAMESPACE', 'LEGO_KEY_TYPE'];

describe('closestName', () => {
  test('a transposition is one edit', () => {
    assert.equal(editDistance('LEGO_EMIAL', 'LEGO_EMAIL'), 1);
    assert.equal(editDistance('abc', 'abc'), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  test('finds the intended name for typical typos, case-insensitively', () => {
    assert.equal(closestName('LEGO_EMIAL', KNOWN), 'LEGO_EMAIL');
    assert.equal(closestName('LEGO_NAMESPAC', KNOWN), 'LEGO_NAMESPACE');
    assert.equal(closestName('LEGO_KEYTYPE', KNOWN), 'LEGO_KEY_TYPE');
    assert.equal(closestName('lego_url', KNOWN), 'LEGO_URL');
  });

  test('nothing for a name that is no plausible misspelling', () => {
    assert.equal(closestName('LEGO_SOMETHING_ELSE', KNOWN), undefined);
    assert.equal(closestName('LEGO_X', KNOWN), undefined);
  });
});

describe('chooseNamespace: flag, then LEGO_NAMESPACE, then the context, then default', () => {
  const table: [Parameters<typeof chooseNamespace>[0], string, string][] = [
    [{ flag: 'f', variable: 'v', context: 'c' }, 'f', 'flag'],
    [{ flag: undefined, variable: 'v', context: 'c' }, 'v', 'variable'],
    [{ flag: undefined, variable: undefined, context: 'c' }, 'c', 'context'],
    [{ flag: undefined, variable: '', context: 'c' }, 'c', 'context'],
    [{ flag: ' ', variable: undefined, context: undefined }, 'default', 'default'],
    [{ flag: undefined, variable: undefined, context: undefined }, 'default', 'default'],
  ];
  for (const [candidates, namespace, source] of table) {
    test(`${JSON.stringify(candidates)} → ${namespace} (${source})`, () => {
      assert.deepEqual(chooseNamespace(candidates), { namespace, source });
    });
  }
});

describe('findUnknownVariables', () => {
  const tables = [jobSettings, responderSettings];

  test('a misspelt LEGO_* variable is named with the closest known setting', () => {
    const unknown = findUnknownVariables(
      { LEGO_EMIAL: 'a@example.com', LEGO_EMAIL: 'b@example.com', PATH: '/bin' },
      tables,
    );
    assert.deepEqual(unknown, [{ name: 'LEGO_EMIAL', closest: 'LEGO_EMAIL' }]);
    assert.equal(
      describeUnknownVariable(unknown[0]!),
      'LEGO_EMIAL is not a setting and is ignored; did you mean LEGO_EMAIL?',
    );
  });

  test('settings of either program, and aliases, are known; other prefixes are not looked at', () => {
    const env: NodeJS.ProcessEnv = { KUBE_LEGO_TEST_HOOKS: '1', HOME: '/root' };
    for (const table of tables)
      for (const spec of Object.values(table))
        for (const name of [spec.env, ...(spec.aliases ?? [])]) env[name] = 'x';
    assert.deepEqual(findUnknownVariables(env, tables), []);
  });

  test('a name close to nothing still gets a warning, without a guess', () => {
    const [unknown] = findUnknownVariables({ LEGO_TOTALLY_NEW: '1' }, tables);
    assert.equal(unknown?.closest, undefined);
    assert.match(describeUnknownVariable(unknown!), /LEGO_TOTALLY_NEW is not a setting/);
  });
});

describe('installHint', () => {
  const context = { namespace: 'default', source: 'context' as const };

  test('one install elsewhere: names it and the flag to use', () => {
    const message = installHint(context, 'kube-lego-status', { namespaces: ['kube-lego'] });
    assert.match(message, /no kube-lego install in namespace default \(the kubeconfig context/);
    assert.match(message, /installed in namespace kube-lego: use -n kube-lego$/);
  });

  test('several installs: lists them', () => {
    const message = installHint(context, 'kube-lego-status', { namespaces: ['a', 'b'] });
    assert.match(message, /installed in namespaces a, b: choose one with -n$/);
  });

  test('none anywhere, and RBAC refusing the search, are said as such', () => {
    assert.match(
      installHint(context, 'kube-lego-status', { namespaces: [] }),
      /no other namespace has a status ConfigMap kube-lego-status/,
    );
    assert.match(
      installHint(context, 'kube-lego-status', { forbidden: 'HTTP 403 Forbidden: nope' }),
      /could not be searched \(listing ConfigMaps in all namespaces is not allowed: HTTP 403 Forbidden: nope\)/,
    );
  });
});
