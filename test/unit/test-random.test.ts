/** Layer: unit. The random source's test hook (jobs/test-random.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../shared/errors.js';
import { randomFrom } from '../../jobs/test-random.js';

test('Math.random without the hook; the fixed value with it and test hooks enabled', () => {
  assert.equal(randomFrom({}), Math.random);
  const fixed = randomFrom({ KUBE_LEGO_TEST_HOOKS: 'enabled', KUBE_LEGO_TEST_RANDOM: '0.25' });
  assert.equal(fixed(), 0.25);
  assert.equal(fixed(), 0.25);
});

test('refused without test hooks, and outside [0, 1)', () => {
  assert.throws(() => randomFrom({ KUBE_LEGO_TEST_RANDOM: '0.5' }), ConfigError);
  for (const value of ['1', '-0.1', 'half', '1e-3'])
    assert.throws(
      () => randomFrom({ KUBE_LEGO_TEST_HOOKS: 'enabled', KUBE_LEGO_TEST_RANDOM: value }),
      ConfigError,
      value,
    );
});
