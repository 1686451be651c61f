/**
 * Layer: component (socket-free; a fake of the ConfigMapApi port).
 * The list-then-watch loop against a fake of its port (ConfigMapApi): resume from the last
 * resourceVersion, re-list on 410, back off and keep the last copy on failures, drop a silent
 * watch, treat a missing ConfigMap as empty, stop promptly.
 *
 * Every wait is for an event (a watch opened, a restart counted), bounded only by the test's
 * timeout; the watchdog is driven by Node's mock timers where a test depends on its timing.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import { KubeApiError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { reconnectDelay } from '../../responder/reconnect-jitter.js';
import type {
  ConfigMapApi,
  ConfigMapData,
  ListResult,
  WatchEvent,
  WatchRequest,
} from '../../responder/configmap-api.js';
import {
  ConfigMapWatcher,
  type ConfigMapWatcherTiming,
} from '../../responder/configmap-watcher.js';
import type { RestartReason } from '../../responder/metrics.js';

/** One watch the fake API holds open until the test ends it. */
interface OpenWatch {
  request: WatchRequest;
  emit(event: WatchEvent): void;
  end(): void;
  fail(error: Error): void;
}

class FakeApi implements ConfigMapApi {
  readonly calls: string[] = [];
  readonly watches: OpenWatch[] = [];
  /** Called (and dropped) when the next watch opens. */
  private openListeners: (() => void)[] = [];
  /** What the next lists answer, in order; the last one repeats. */
  listAnswers: (ListResult | Error)[] = [{ configMap: undefined, resourceVersion: '1' }];
  /** When set, the next watch call throws it instead of opening. */
  watchFailures: Error[] = [];

  list(namespace: string, name: string): Promise<ListResult> {
    this.calls.push(`list ${namespace}/${name}`);
    const answer = this.listAnswers.length > 1 ? this.listAnswers.shift()! : this.listAnswers[0]!;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }

  watch(request: WatchRequest): Promise<void> {
    this.calls.push(`watch from ${request.resourceVersion}`);
    const failure = this.watchFailures.shift();
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const abort = () => {
        reject(new KubeApiError('watch', undefined, undefined, 'aborted'));
      };
      if (request.signal.aborted) {
        abort();
        return;
      }
      request.signal.addEventListener('abort', abort, { once: true });
      request.onOpen();
      this.watches.push({
        request,
        emit: (event) => {
          request.onEvent(event);
        },
        end: () => {
          request.signal.removeEventListener('abort', abort);
          resolve();
        },
        fail: (error) => {
          request.signal.removeEventListener('abort', abort);
          reject(error);
        },
      });
      for (const listener of this.openListeners.splice(0)) listener();
    });
  }

  /** The `count`th watch opened, once it has been (however long that takes). */
  async watchNumber(count: number): Promise<OpenWatch> {
    while (this.watches.length < count) {
      await new Promise<void>((resolve) => this.openListeners.push(resolve));
    }
    return this.watches[count - 1]!;
  }
}

const FAST: Partial<ConfigMapWatcherTiming> = {
  watchTimeoutSeconds: 300,
  // Beyond any test's timeout: only the tests about the watchdog meet it.
  watchdogMs: 600_000,
  minWatchMs: 0,
  reconnect: { initialMs: 10, maxMs: 40 },
};

/** Every watcher a test made: stopped after each test, even a failed one. */
const made: ConfigMapWatcher[] = [];

function makeWatcher(api: FakeApi, timing: Partial<ConfigMapWatcherTiming> = FAST) {
  const changes: ConfigMapData[] = [];
  const restarts: RestartReason[] = [];
  /** `hasListed` at each restart, as the watcher saw it then. */
  const listedAtRestart: boolean[] = [];
  const restartListeners: (() => void)[] = [];
  const synced: Date[] = [];
  const lines: string[] = [];
  const watcher = new ConfigMapWatcher({
    api,
    namespace: 'kube-lego',
    name: 'kube-lego-challenges',
    logger: createLogger({ level: 'debug', type: 'json', write: (l) => lines.push(l) }),
    onChange: (data) => changes.push(data),
    onSynced: (at) => synced.push(at),
    onRestart: (reason) => {
      restarts.push(reason);
      listedAtRestart.push(watcher.hasListed);
      for (const listener of restartListeners.splice(0)) listener();
    },
    timing,
    random: () => 0.5,
  });
  made.push(watcher);
  /** Resolves once `count` restarts have been counted (however long that takes). */
  const restarted = async (count: number) => {
    while (restarts.length < count) {
      await new Promise<void>((resolve) => restartListeners.push(resolve));
    }
  };
  return { watcher, changes, restarts, listedAtRestart, restarted, synced, lines };
}

const cm = (data: Record<string, string>, resourceVersion: string): WatchEvent => ({
  type: 'MODIFIED',
  data,
  resourceVersion,
});

describe('ConfigMapWatcher', { timeout: 20_000 }, () => {
  afterEach(async () => {
    await Promise.all(made.splice(0).map((w) => w.stop()));
  });

  test('lists with the ConfigMap name, then watches from the list resourceVersion and applies each event', async () => {
    const api = new FakeApi();
    api.listAnswers = [{ configMap: { data: { a: '1' } }, resourceVersion: '10' }];
    const w = makeWatcher(api);
    assert.equal(w.watcher.hasListed, false);
    w.watcher.start();
    const watch = await api.watchNumber(1);
    assert.equal(w.watcher.hasListed, true);
    assert.deepEqual(api.calls, ['list kube-lego/kube-lego-challenges', 'watch from 10']);
    assert.equal(watch.request.name, 'kube-lego-challenges');
    assert.deepEqual(w.changes, [{ a: '1' }]);
    watch.emit(cm({ a: '1', b: '2' }, '11'));
    watch.emit({ type: 'DELETED', data: { a: '1', b: '2' }, resourceVersion: '12' });
    watch.emit({ type: 'ADDED', data: { c: '3' }, resourceVersion: '13' });
    assert.deepEqual(w.changes, [{ a: '1' }, { a: '1', b: '2' }, undefined, { c: '3' }]);
    assert.ok(w.synced.length >= 5, 'a list, an open and three events');
    await w.watcher.stop();
    assert.deepEqual(w.restarts, []);
  });

  test('a missing ConfigMap is empty, and is watched until it appears', async () => {
    const api = new FakeApi();
    const w = makeWatcher(api);
    w.watcher.start();
    const watch = await api.watchNumber(1);
    assert.deepEqual(w.changes, [undefined]);
    assert.equal(w.watcher.hasListed, true);
    watch.emit({ type: 'ADDED', data: { t: 'x' }, resourceVersion: '2' });
    assert.deepEqual(w.changes, [undefined, { t: 'x' }]);
    await w.watcher.stop();
  });

  test('a watch the server ends resumes from the last resourceVersion, bookmarks included, without a list', async () => {
    const api = new FakeApi();
    const w = makeWatcher(api);
    w.watcher.start();
    const first = await api.watchNumber(1);
    first.emit(cm({ a: '1' }, '5'));
    first.emit({ type: 'BOOKMARK', resourceVersion: '9' });
    first.end();
    await api.watchNumber(2);
    assert.deepEqual(api.calls, [
      'list kube-lego/kube-lego-challenges',
      'watch from 1',
      'watch from 9',
    ]);
    assert.deepEqual(w.restarts, [], 'a normal end is not a restart');
    assert.deepEqual(w.changes, [undefined, { a: '1' }], 'a bookmark changes nothing');
    await w.watcher.stop();
  });

  test('410 Gone in the stream: list again, then watch from the new list', async () => {
    const api = new FakeApi();
    api.listAnswers = [
      { configMap: { data: { old: '1' } }, resourceVersion: '3' },
      { configMap: { data: { fresh: '1' } }, resourceVersion: '200' },
    ];
    const w = makeWatcher(api);
    w.watcher.start();
    const first = await api.watchNumber(1);
    first.emit({
      type: 'ERROR',
      code: 410,
      reason: 'Expired',
      message: 'too old resource version',
    });
    await api.watchNumber(2);
    assert.deepEqual(api.calls, [
      'list kube-lego/kube-lego-challenges',
      'watch from 3',
      'list kube-lego/kube-lego-challenges',
      'watch from 200',
    ]);
    assert.deepEqual(w.restarts, ['expired']);
    assert.deepEqual(w.changes, [{ old: '1' }, { fresh: '1' }]);
    await w.watcher.stop();
  });

  test('410 as the answer to the watch request: list again', async () => {
    const api = new FakeApi();
    api.watchFailures = [new KubeApiError('watch', 410, 'Gone', 'expired')];
    const w = makeWatcher(api);
    w.watcher.start();
    await api.watchNumber(1);
    assert.deepEqual(api.calls, [
      'list kube-lego/kube-lego-challenges',
      'watch from 1',
      'list kube-lego/kube-lego-challenges',
      'watch from 1',
    ]);
    assert.deepEqual(w.restarts, ['expired']);
    await w.watcher.stop();
  });

  test('when the API server goes away: keep the last copy, back off, resume the watch from where it was', async () => {
    const api = new FakeApi();
    api.listAnswers = [{ configMap: { data: { t: 'kept' } }, resourceVersion: '7' }];
    const w = makeWatcher(api);
    w.watcher.start();
    const first = await api.watchNumber(1);
    first.emit(cm({ t: 'kept', u: 'also' }, '8'));
    const refused = () => new KubeApiError('watch', undefined, undefined, 'connect ECONNREFUSED');
    api.watchFailures = [refused(), refused(), refused()];
    const broke = Date.now();
    first.fail(new KubeApiError('watch', undefined, undefined, 'the watch stream broke'));
    await api.watchNumber(2);
    const waited = Date.now() - broke;
    assert.deepEqual(api.calls.slice(1), [
      'watch from 7',
      'watch from 8',
      'watch from 8',
      'watch from 8',
      'watch from 8',
    ]);
    assert.deepEqual(w.restarts, ['error', 'error', 'error', 'error']);
    // Reconnect delays with jitter 0.5: 7.5 + 15 + 30 + 30 ms at least. A lower bound only:
    // load can only lengthen the wait.
    assert.ok(waited >= 70, `waited ${waited} ms`);
    assert.deepEqual(
      w.changes,
      [{ t: 'kept' }, { t: 'kept', u: 'also' }],
      'the copy was never dropped',
    );
    const warnings = w.lines.filter((l) => l.includes('"level":"warn"'));
    assert.equal(warnings.length, 4);
    assert.match(warnings[0]!, /the watch stream broke/);
    await w.watcher.stop();
  });

  test('until the first list succeeds it is not listed, and it keeps trying', async () => {
    const api = new FakeApi();
    const forbidden = new KubeApiError('list', 403, 'Forbidden', 'configmaps is forbidden');
    api.listAnswers = [forbidden, forbidden, { configMap: undefined, resourceVersion: '4' }];
    const w = makeWatcher(api);
    w.watcher.start();
    await api.watchNumber(1);
    assert.equal(w.watcher.hasListed, true);
    assert.deepEqual(w.restarts, ['error', 'error']);
    assert.deepEqual(w.listedAtRestart, [false, false], 'not listed after either refusal');
    assert.deepEqual(w.changes, [undefined]);
    await w.watcher.stop();
  });

  test('a silent watch is dropped by the watchdog and resumed', async () => {
    const api = new FakeApi();
    const w = makeWatcher(api, { ...FAST, watchdogMs: 100 });
    w.watcher.start();
    const first = await api.watchNumber(1);
    first.emit(cm({ a: '1' }, '2'));
    await api.watchNumber(2);
    assert.ok(first.request.signal.aborted, 'the silent watch was closed');
    assert.deepEqual(w.restarts, ['silent']);
    assert.equal(api.calls.at(-1), 'watch from 2');
    await w.watcher.stop();
  });

  test('events keep the watchdog quiet', async () => {
    // The watchdog's clock is Node's mock timers: 600 ms pass with an event every 100 ms, four
    // times the watchdog's 150 ms, whatever the load on the machine.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const api = new FakeApi();
      const w = makeWatcher(api, { ...FAST, watchdogMs: 150 });
      w.watcher.start();
      const first = await api.watchNumber(1);
      for (let i = 0; i < 6; i++) {
        mock.timers.tick(100);
        first.emit({ type: 'BOOKMARK', resourceVersion: String(10 + i) });
      }
      // The watchdog aborts the watch the moment it fires; a restart follows a few promise
      // turns later (setImmediate is not mocked).
      assert.equal(first.request.signal.aborted, false, 'the watchdog never fired');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(api.watches.length, 1);
      assert.deepEqual(w.restarts, []);
      // Without an event for 150 ms, the same watch is dropped.
      mock.timers.tick(150);
      await w.restarted(1);
      assert.deepEqual(w.restarts, ['silent']);
      assert.ok(first.request.signal.aborted);
      await w.watcher.stop();
    } finally {
      mock.timers.reset();
    }
  });

  test('a watch that the server ends at once, empty, counts as a failure (no tight loop)', async () => {
    const api = new FakeApi();
    // Longer than the test's timeout: every watch here ends "at once".
    const w = makeWatcher(api, { ...FAST, minWatchMs: 600_000 });
    w.watcher.start();
    (await api.watchNumber(1)).end();
    (await api.watchNumber(2)).end();
    await api.watchNumber(3);
    assert.deepEqual(w.restarts, ['error', 'error']);
    await w.watcher.stop();
  });

  test('stop() ends the loop promptly, in a watch or while backing off', async () => {
    // The fake watch never ends by itself: stop() returning at all means it ended the watch.
    const api = new FakeApi();
    const w = makeWatcher(api);
    w.watcher.start();
    const watch = await api.watchNumber(1);
    await w.watcher.stop();
    assert.ok(watch.request.signal.aborted);

    // A reconnect delay far beyond the test's timeout: stop() returning in time means it did not
    // sit the delay out.
    const down = new FakeApi();
    down.listAnswers = [new KubeApiError('list', undefined, undefined, 'ECONNREFUSED')];
    const w2 = makeWatcher(down, { ...FAST, reconnect: { initialMs: 600_000, maxMs: 600_000 } });
    w2.watcher.start();
    await w2.restarted(1);
    await w2.watcher.stop();
    assert.equal(down.calls.length, 1, 'no second list');
  });
});

describe('reconnectDelay', () => {
  test('doubles from the initial delay up to the cap, with jitter in [half, all]', () => {
    const policy = { initialMs: 500, maxMs: 8_000 };
    const table: [number, number, number][] = [
      // failures, delay with random()=0, delay with random()→1
      [1, 250, 500],
      [2, 500, 1_000],
      [3, 1_000, 2_000],
      [4, 2_000, 4_000],
      [5, 4_000, 8_000],
      [6, 4_000, 8_000],
      [100, 4_000, 8_000],
    ];
    for (const [failures, low, high] of table) {
      assert.equal(
        reconnectDelay(failures, policy, () => 0),
        low,
        `failures=${failures}`,
      );
      assert.equal(
        reconnectDelay(failures, policy, () => 0.999999),
        high,
        `failures=${failures}`,
      );
    }
  });
});
