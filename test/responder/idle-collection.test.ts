/**
 * Layer: unit.
 * When the responder runs its memory-reducing collection (responder/idle-collection.ts): a step
 * over the traffic counter, one look per period, with no clock. And the collector that carries it
 * out (responder/idle-collector.ts) on node:test's mocked timers, with a fake collection.
 */
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import {
  IDLE_COLLECTION,
  INITIAL_IDLE_COLLECTION_STATE,
  lookAtTraffic,
  type IdleCollectionPolicy,
} from '../../responder/idle-collection.js';
import { exposedGarbageCollection, IdleCollector } from '../../responder/idle-collector.js';

const POLICY: IdleCollectionPolicy = {
  periodMs: 10_000,
  quietTraffic: 20,
  quietMs: 30_000,
  burstTraffic: 1_000,
};

/** The looks at the successive counter values; which of them collected. */
function collectsAt(counters: number[], policy = POLICY): number[] {
  let state = INITIAL_IDLE_COLLECTION_STATE;
  const at: number[] = [];
  for (const [i, traffic] of counters.entries()) {
    const step = lookAtTraffic(state, traffic, policy);
    state = step.state;
    if (step.collect) at.push(i);
  }
  return at;
}

describe('lookAtTraffic', () => {
  const cases: [string, number[], number[]][] = [
    ['no traffic at all: nothing to collect', [0, 0, 0, 0, 0, 0], []],
    ['a burst, then three quiet periods: collects at the third', [5_000, 5_000, 5_000, 5_000], [3]],
    ['probes (a few per period) count as quiet', [5_000, 5_006, 5_012, 5_018, 5_024, 5_030], [3]],
    [
      'a period above the quiet traffic starts the quiet over',
      [5_000, 5_000, 5_000, 5_100, 5_100, 5_100, 5_100],
      [6],
    ],
    ['less than a burst since the start: never', [999, 999, 999, 999, 999], []],
    ['exactly a burst: collects', [1_000, 1_000, 1_000, 1_000], [3]],
    [
      'once per burst: a long quiet after it collects once',
      [5_000, ...Array<number>(20).fill(5_000)],
      [3],
    ],
    [
      'a second burst after a collection: collects again once quiet',
      [5_000, 5_000, 5_000, 5_000, 9_000, 9_000, 9_000, 9_000],
      [3, 7],
    ],
    [
      'probes alone add up to a burst after a long while',
      Array.from({ length: 200 }, (_, i) => i * 6),
      [167],
    ],
  ];
  for (const [name, counters, expected] of cases) {
    test(name, () => {
      assert.deepEqual(collectsAt(counters), expected);
    });
  }

  test('the responder’s policy: a look every 10 s, half a minute of quiet, 1,000 for a burst', () => {
    assert.deepEqual(IDLE_COLLECTION, POLICY);
  });
});

describe('IdleCollector', () => {
  test('collects once, a period after the traffic has been quiet long enough, until stopped', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    let traffic = 0;
    const collect = mock.fn();
    const collector = new IdleCollector({
      readTraffic: () => traffic,
      collect,
      logger: silentLogger,
      policy: POLICY,
    });
    collector.start();
    traffic = 3_000; // a burst in the first period
    t.mock.timers.tick(10_000);
    t.mock.timers.tick(20_000);
    assert.equal(collect.mock.callCount(), 0, 'quiet for 20 s only');
    t.mock.timers.tick(10_000);
    assert.equal(collect.mock.callCount(), 1);
    t.mock.timers.tick(60_000);
    assert.equal(collect.mock.callCount(), 1, 'once per burst');
    collector.stop();
    traffic = 9_000;
    t.mock.timers.tick(60_000);
    assert.equal(collect.mock.callCount(), 1, 'stopped');
  });

  test('traffic before start() is not a burst', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const collect = mock.fn();
    const collector = new IdleCollector({
      readTraffic: () => 50_000,
      collect,
      logger: silentLogger,
      policy: POLICY,
    });
    collector.start();
    t.mock.timers.tick(120_000);
    collector.stop();
    assert.equal(collect.mock.callCount(), 0);
  });

  test('a collection that throws is logged as a warning and the collector goes on', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const warnings: string[] = [];
    let traffic = 0;
    const collector = new IdleCollector({
      readTraffic: () => traffic,
      collect: () => {
        throw new Error('no');
      },
      logger: { ...silentLogger, warn: (message) => warnings.push(message) },
      policy: POLICY,
    });
    collector.start();
    traffic = 2_000;
    t.mock.timers.tick(40_000);
    traffic = 4_000;
    t.mock.timers.tick(40_000);
    collector.stop();
    assert.deepEqual(warnings, [
      'the idle garbage collection failed',
      'the idle garbage collection failed',
    ]);
  });
});

describe('exposedGarbageCollection', () => {
  test('undefined without --expose-gc; else a function that runs gc() with the last-resort flavour', () => {
    const saved = (globalThis as { gc?: unknown }).gc;
    try {
      delete (globalThis as { gc?: unknown }).gc;
      assert.equal(exposedGarbageCollection(), undefined);
      const gc = mock.fn((_options: unknown) => undefined);
      (globalThis as { gc?: unknown }).gc = gc;
      exposedGarbageCollection()!();
      assert.deepEqual(
        gc.mock.calls.map((c) => c.arguments),
        [[{ type: 'major', execution: 'sync', flavor: 'last-resort' }]],
      );
    } finally {
      (globalThis as { gc?: unknown }).gc = saved;
    }
  });
});
