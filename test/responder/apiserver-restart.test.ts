/**
 * The responder when the API server goes away: against a private etcd + kube-apiserver pair
 * (test/env/kube-only.ts; the shared one must stay up for the other files), the API server is
 * stopped and started again on the same port with the same data. Meanwhile the responder keeps
 * serving the last known tokens and stays ready; afterwards it resyncs (a change made right after
 * the restart is served within seconds) and counts the watch restarts.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startKubeApiServer, type KubeOnly } from '../env/kube-only.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import { send } from './http-request.js';
import { challenge, randomToken, writeChallenges } from './kube-fixtures.js';

const PREFIX = '/.well-known/acme-challenge/';
const NAMESPACE = 'kube-lego';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the responder across an API server restart', { timeout: 300_000 }, () => {
  let kube: KubeOnly;
  let core: CoreV1Api;
  let responder: ResponderProcess | undefined;

  before(async () => {
    kube = await startKubeApiServer();
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
    core = config.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  });
  after(async () => {
    await responder?.stop('SIGKILL');
    await kube.stop();
  });

  test('keeps serving while the API server is down, then resyncs', async () => {
    const a = challenge(randomToken(), 'a.restart.example');
    const b = challenge(randomToken(), 'b.restart.example');
    await writeChallenges(core, NAMESPACE, [a]);
    const r = await startResponderProcess({ namespace: NAMESPACE, kubeconfig: kube.kubeconfig });
    responder = r;
    const status = async (token: string, host: string) =>
      (await send(r.url, { path: PREFIX + token, host })).status;
    assert.equal(await status(a.token, a.domain), 200);

    await kube.stopApiServer();
    const downAt = Date.now();
    // Down for a while: the responder notices (watch broken, reconnects refused) and carries on.
    while (Date.now() - downAt < 3_000) {
      assert.equal(await status(a.token, a.domain), 200, 'the last known token is still served');
      assert.equal((await send(r.url, { path: '/readyz' })).status, 200, 'still ready');
      await sleep(250);
    }
    const during = await send(r.metricsUrl, { path: '/metrics' });
    assert.ok(
      (sample(
        during.body,
        'kube_lego_responder_watch_restarts_total{configmap="challenge",reason="error"}',
      ) ?? 0) >= 1,
      'the broken watch is counted',
    );
    assert.ok(
      r
        .logRecords()
        .some(
          (l) =>
            l.level === 'warn' &&
            l.msg === 'watching the ConfigMap failed; keeping the last copy and retrying',
        ),
    );

    const restartAt = Date.now();
    await kube.startApiServer();
    const upAt = Date.now();
    // A change made right after the restart: a new token, and the old one removed.
    await writeChallenges(core, NAMESPACE, [b]);
    const writtenAt = Date.now();
    for (;;) {
      const [bStatus, aStatus] = [await status(b.token, b.domain), await status(a.token, a.domain)];
      if (bStatus === 200 && aStatus === 404) break;
      assert.ok(
        Date.now() - writtenAt < 20_000,
        `not resynced 20 s after the write (b ${bStatus}, a ${aStatus})`,
      );
      await sleep(50);
    }
    const resyncMs = Date.now() - writtenAt;
    console.log(
      `API server down ${restartAt - downAt} ms, starting took ${upAt - restartAt} ms, change served ${resyncMs} ms after the write`,
    );
    // The reconnect delay is capped at 8 s: after that the watch is back, and then a change is instant.
    assert.ok(resyncMs < 10_000, `resynced ${resyncMs} ms after the write`);

    // From then on a change is served as fast as before the restart.
    const c = challenge(randomToken(), 'c.restart.example');
    const since = Date.now();
    await writeChallenges(core, NAMESPACE, [b, c]);
    while ((await status(c.token, c.domain)) !== 200) {
      assert.ok(Date.now() - since < 1_000, 'served within a second once resynced');
      await sleep(10);
    }
    const text = (await send(r.metricsUrl, { path: '/metrics' })).body;
    console.log(
      text
        .split('\n')
        .filter((l) =>
          l.startsWith('kube_lego_responder_watch_restarts_total{configmap="challenge"'),
        )
        .join('\n'),
    );
    const lastSync = sample(
      text,
      'kube_lego_responder_last_sync_timestamp_seconds{configmap="challenge"}',
    );
    assert.ok(
      lastSync !== undefined && lastSync * 1000 >= upAt - 1_000,
      'synced after the restart',
    );
    assert.ok(
      r
        .logRecords()
        .some((l) => l.msg === 'watching the ConfigMap again' || l.msg === 'listed the ConfigMap'),
    );
    const stopped = await r.stop();
    assert.deepEqual(stopped, { code: 0, signal: null });
  });
});
