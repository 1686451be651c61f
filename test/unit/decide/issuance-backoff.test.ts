/** Layer: unit. Issuance back-off (jobs/decide/issuance-backoff.ts), with a fixed `now`. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BACKOFF_MAX_MS,
  backoffDelayMs,
  checkBackoff,
  nextFailureStatus,
} from '../../../jobs/decide/issuance-backoff.js';
import { HOUR, MINUTE, NOW, at, status } from './fixtures.js';

const HOSTS = ['a.example', 'b.example'];

describe('backoffDelayMs: 1h, 2h, 4h … capped at 32h', () => {
  const schedule: [failures: number, delay: number][] = [
    [0, 0],
    [-1, 0],
    [1, 1 * HOUR],
    [2, 2 * HOUR],
    [3, 4 * HOUR],
    [4, 8 * HOUR],
    [5, 16 * HOUR],
    [6, 32 * HOUR],
    [7, 32 * HOUR],
    [50, 32 * HOUR],
    [10_000, 32 * HOUR],
  ];
  for (const [failures, delay] of schedule) {
    test(`${failures} failures → ${delay / HOUR}h`, () => {
      assert.equal(backoffDelayMs(failures), delay);
    });
  }
  test('the cap is 32h', () => {
    assert.equal(BACKOFF_MAX_MS, 32 * HOUR);
  });
});

describe('checkBackoff', () => {
  const rows: {
    name: string;
    status: Parameters<typeof checkBackoff>[0];
    hosts?: string[];
    until: Date | undefined;
  }[] = [
    { name: 'no status', status: undefined, until: undefined },
    {
      name: 'no failures',
      status: status({
        failures: 0,
        lastFailureAt: at(-1 * MINUTE).toISOString(),
        failedHosts: HOSTS,
      }),
      until: undefined,
    },
    {
      name: '1 failure 30 minutes ago: blocked for 1h from the failure',
      status: status({
        failures: 1,
        lastFailureAt: at(-30 * MINUTE).toISOString(),
        failedHosts: HOSTS,
      }),
      until: at(30 * MINUTE),
    },
    {
      name: '1 failure exactly 1h ago: not blocked',
      status: status({ failures: 1, lastFailureAt: at(-HOUR).toISOString(), failedHosts: HOSTS }),
      until: undefined,
    },
    {
      name: '3 failures 3h ago: blocked for 4h from the failure',
      status: status({
        failures: 3,
        lastFailureAt: at(-3 * HOUR).toISOString(),
        failedHosts: HOSTS,
      }),
      until: at(HOUR),
    },
    {
      name: '9 failures 31h ago: capped at 32h',
      status: status({
        failures: 9,
        lastFailureAt: at(-31 * HOUR).toISOString(),
        failedHosts: HOSTS,
      }),
      until: at(HOUR),
    },
    {
      name: '9 failures 32h ago: not blocked',
      status: status({
        failures: 9,
        lastFailureAt: at(-32 * HOUR).toISOString(),
        failedHosts: HOSTS,
      }),
      until: undefined,
    },
    {
      name: "the server's retryAfter later than the back-off wins",
      status: status({
        failures: 1,
        lastFailureAt: at(-30 * MINUTE).toISOString(),
        retryAfter: at(5 * HOUR).toISOString(),
        failedHosts: HOSTS,
      }),
      until: at(5 * HOUR),
    },
    {
      name: 'a retryAfter earlier than the back-off does not shorten it',
      status: status({
        failures: 2,
        lastFailureAt: at(-30 * MINUTE).toISOString(),
        retryAfter: at(10 * MINUTE).toISOString(),
        failedHosts: HOSTS,
      }),
      until: at(90 * MINUTE),
    },
    {
      name: 'a retryAfter still blocks after the back-off ran out',
      status: status({
        failures: 1,
        lastFailureAt: at(-2 * HOUR).toISOString(),
        retryAfter: at(1 * MINUTE).toISOString(),
        failedHosts: HOSTS,
      }),
      until: at(1 * MINUTE),
    },
    {
      name: 'failures for another host set do not count',
      status: status({
        failures: 5,
        lastFailureAt: at(-MINUTE).toISOString(),
        failedHosts: ['a.example'],
      }),
      until: undefined,
    },
    {
      name: 'host sets are compared as sets',
      status: status({
        failures: 1,
        lastFailureAt: at(-MINUTE).toISOString(),
        failedHosts: ['b.example', 'a.example'],
      }),
      until: at(59 * MINUTE),
    },
    {
      name: 'without failedHosts, the status hosts are the failed set',
      status: status({ failures: 1, lastFailureAt: at(-MINUTE).toISOString(), hosts: HOSTS }),
      until: at(59 * MINUTE),
    },
    {
      name: 'without failedHosts, changed status hosts start afresh',
      status: status({
        failures: 1,
        lastFailureAt: at(-MINUTE).toISOString(),
        hosts: ['old.example'],
      }),
      until: undefined,
    },
    {
      name: 'an unreadable lastFailureAt and no retryAfter: not blocked',
      status: status({ failures: 3, lastFailureAt: 'yesterday', failedHosts: HOSTS }),
      until: undefined,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const decision = checkBackoff(row.status, row.hosts ?? HOSTS, NOW);
      if (row.until === undefined) {
        assert.deepEqual(decision, { blocked: false });
        return;
      }
      assert.equal(decision.blocked, true);
      if (!decision.blocked) return;
      assert.deepEqual(decision.until, row.until);
      assert.equal(decision.reason, 'BackingOff');
      assert.ok(decision.message.includes(row.until.toISOString()), decision.message);
    });
  }
});

describe('nextFailureStatus', () => {
  const failure = { reason: 'OrderFailed', message: 'The order failed.' };

  test('the first failure', () => {
    assert.deepEqual(nextFailureStatus(undefined, ['b.example', 'a.example'], failure, NOW), {
      result: 'Failed',
      reason: 'OrderFailed',
      message: 'The order failed.',
      failures: 1,
      lastFailureAt: NOW.toISOString(),
      retryAfter: at(HOUR).toISOString(),
      failedHosts: ['a.example', 'b.example'],
    });
  });

  test('a further failure for the same hosts doubles the delay', () => {
    const previous = status({
      failures: 2,
      lastFailureAt: at(-2 * HOUR).toISOString(),
      failedHosts: HOSTS,
    });
    const next = nextFailureStatus(previous, HOSTS, failure, NOW);
    assert.equal(next.failures, 3);
    assert.equal(next.retryAfter, at(4 * HOUR).toISOString());
  });

  test('a failure for a changed host set starts counting afresh', () => {
    const previous = status({ failures: 4, failedHosts: ['a.example'] });
    const next = nextFailureStatus(previous, HOSTS, failure, NOW);
    assert.equal(next.failures, 1);
    assert.deepEqual(next.failedHosts, HOSTS);
  });

  test('a previous success (failures 0) starts counting afresh', () => {
    assert.equal(nextFailureStatus(status({ failures: 0 }), HOSTS, failure, NOW).failures, 1);
  });

  test("the server's Retry-After is kept when later than the back-off", () => {
    const next = nextFailureStatus(undefined, HOSTS, { ...failure, retryAfter: at(3 * HOUR) }, NOW);
    assert.equal(next.retryAfter, at(3 * HOUR).toISOString());
  });

  test('an earlier Retry-After does not shorten the back-off', () => {
    const next = nextFailureStatus(undefined, HOSTS, { ...failure, retryAfter: at(MINUTE) }, NOW);
    assert.equal(next.retryAfter, at(HOUR).toISOString());
  });

  test('what it writes, checkBackoff reads back', () => {
    const written = status({ ...nextFailureStatus(undefined, HOSTS, failure, NOW), hosts: HOSTS });
    assert.deepEqual(checkBackoff(written, HOSTS, at(59 * MINUTE)).blocked, true);
    assert.deepEqual(checkBackoff(written, HOSTS, at(HOUR)).blocked, false);
  });
});
