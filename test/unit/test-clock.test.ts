import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockFrom } from '../../jobs/test-clock.js';
import { ConfigError } from '../../shared/errors.js';

const HOUR = 3_600_000;

describe('the test clock', () => {
  test('without the offset: the real time', () => {
    const now = clockFrom({})();
    assert.ok(Math.abs(now.getTime() - Date.now()) < HOUR, 'the real clock, not a shifted one');
  });

  test('with the offset and test hooks enabled: shifted, forwards or backwards', () => {
    const ahead = clockFrom({
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_CLOCK_OFFSET: '25h',
    })();
    assert.ok(ahead.getTime() - Date.now() > 24 * HOUR);
    const behind = clockFrom({
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_CLOCK_OFFSET: '-2h',
    })();
    assert.ok(Date.now() - behind.getTime() > HOUR);
  });

  test('refused without test hooks, and when not a duration', () => {
    assert.throws(
      () => clockFrom({ KUBE_LEGO_TEST_CLOCK_OFFSET: '25h' }),
      (error) =>
        error instanceof ConfigError &&
        /only accepted with KUBE_LEGO_TEST_HOOKS=enabled/.test(error.message),
    );
    assert.throws(
      () => clockFrom({ KUBE_LEGO_TEST_HOOKS: 'yes', KUBE_LEGO_TEST_CLOCK_OFFSET: '25h' }),
      ConfigError,
    );
    assert.throws(
      () => clockFrom({ KUBE_LEGO_TEST_HOOKS: 'enabled', KUBE_LEGO_TEST_CLOCK_OFFSET: 'a day' }),
      /a duration in Go syntax/,
    );
  });
});
