/** Layer: unit. Go-style durations (shared/duration.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDuration } from '../../../shared/duration.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('parseDuration', () => {
  const accepted: [string, number][] = [
    ['30s', 30 * SECOND],
    ['5m', 5 * MINUTE],
    ['8h', 8 * HOUR],
    ['720h', 720 * HOUR],
    ['1h30m', 90 * MINUTE],
    ['1.5h', 90 * MINUTE],
    ['.5h', 30 * MINUTE],
    ['300ms', 300],
    ['1m30s', 90 * SECOND],
    ['2h45m30s500ms', 2 * HOUR + 45 * MINUTE + 30 * SECOND + 500],
    ['0', 0],
    ['0s', 0],
    ['+5s', 5 * SECOND],
    [' 8h ', 8 * HOUR],
  ];
  for (const [text, ms] of accepted) {
    test(`accepts ${JSON.stringify(text)} as ${ms}ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  test('accepts the sub-millisecond units as fractions of a millisecond', () => {
    assert.equal(parseDuration('1500us'), 1.5);
    assert.equal(parseDuration('1500µs'), 1.5);
    assert.equal(parseDuration('2000000ns'), 2);
  });

  const rejected: [string, string][] = [
    ['', 'empty'],
    ['   ', 'only spaces'],
    ['-1s', 'negative'],
    ['-0', 'negative zero'],
    ['5', 'a number without a unit (only "0" may omit it)'],
    ['1d', 'days are not a Go unit'],
    ['h', 'a unit without a number'],
    ['1h 30m', 'a space between parts'],
    ['1h30', 'a trailing number without a unit'],
    ['1H', 'units are case-sensitive'],
    ['1e3s', 'exponents are not Go syntax'],
    ['s30', 'the unit before the number'],
    ['+', 'a sign alone'],
    ['1.2.3s', 'two decimal points'],
    ['thirty seconds', 'words'],
  ];
  for (const [text, why] of rejected) {
    test(`rejects ${JSON.stringify(text)} (${why})`, () => {
      assert.equal(parseDuration(text), undefined);
    });
  }

  test('can be called again after a rejection (the sticky pattern is reset)', () => {
    assert.equal(parseDuration('1h 30m'), undefined);
    assert.equal(parseDuration('30s'), 30 * SECOND);
    assert.equal(parseDuration('5m'), 5 * MINUTE);
  });
});

describe('formatDuration', () => {
  const rows: [number, string][] = [
    [0, '0s'],
    [250, '250ms'],
    [SECOND, '1s'],
    [1500, '1.5s'],
    [59 * SECOND, '59s'],
    [90 * SECOND, '1m30s'],
    [5 * MINUTE, '5m0s'],
    [HOUR, '1h0m0s'],
    [90 * MINUTE, '1h30m0s'],
    [8 * HOUR, '8h0m0s'],
    [720 * HOUR, '720h0m0s'],
    [720 * HOUR - SECOND, '719h59m59s'],
    [-SECOND, '-1s'],
    [-90 * MINUTE, '-1h30m0s'],
  ];
  for (const [ms, text] of rows) {
    test(`formats ${ms}ms as ${text}`, () => {
      assert.equal(formatDuration(ms), text);
    });
  }

  test('what it prints parses back to the same duration', () => {
    for (const ms of [250, SECOND, 1500, 90 * SECOND, 90 * MINUTE, 720 * HOUR, 719 * HOUR + 1]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, formatDuration(ms));
    }
  });
});
