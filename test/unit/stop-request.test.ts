import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StopRequest } from '../../jobs/run/stop-request.js';
import { StoppedError } from '../../shared/errors.js';

/** A promise settled by the test, standing for an order in progress. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Waits for the abandon signal. The grace timer does not keep a process alive (a finished run
 * must exit), so the wait holds the event loop open itself.
 */
async function abandoned(stop: StopRequest): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    if (!stop.abandon.aborted)
      await new Promise<void>((resolve) => {
        stop.abandon.addEventListener('abort', () => {
          resolve();
        });
      });
  } finally {
    clearInterval(keepAlive);
  }
}

describe('StopRequest', () => {
  test('without a request, work runs to its end', async () => {
    const stop = new StopRequest(0);
    assert.equal(stop.requested, undefined);
    assert.equal(await stop.withinGrace(Promise.resolve('done')), 'done');
  });

  test('the first signal is recorded and reported once; later ones change nothing', () => {
    const seen: string[] = [];
    const stop = new StopRequest(60_000, (signal) => seen.push(signal));
    stop.request('SIGTERM');
    stop.request('SIGINT');
    assert.equal(stop.requested, 'SIGTERM');
    assert.deepEqual(seen, ['SIGTERM']);
  });

  test('work that does not finish within the grace period is abandoned with StoppedError', async () => {
    const stop = new StopRequest(1);
    const order = pending<string>();
    const running = stop.withinGrace(order.promise);
    stop.request('SIGTERM');
    await abandoned(stop);
    await assert.rejects(
      running,
      (error) => error instanceof StoppedError && /SIGTERM/.test(error.message),
    );
    assert.ok(stop.abandon.aborted, 'the abandon signal tells the work to take no further step');
  });

  test('committed work (validated, finalizing) is never abandoned', async () => {
    const stop = new StopRequest(1);
    const order = pending<string>();
    const running = stop.withinGrace(order.promise, () => true);
    stop.request('SIGTERM');
    await abandoned(stop);
    order.resolve('stored');
    assert.equal(await running, 'stored');
  });

  test('after the grace period, new work is refused at once', async () => {
    const stop = new StopRequest(0);
    stop.request('SIGINT');
    await abandoned(stop);
    await assert.rejects(stop.withinGrace(pending<string>().promise), StoppedError);
  });
});
