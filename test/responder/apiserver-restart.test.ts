/**
 * The responder when the API server goes away: against a private etcd + kube-apiserver pair
 * (test/env/kube-only.ts; the shared one must stay up for the other files), the API server is
 * stopped and started again on the same port with the same data. Meanwhile the responder keeps
 * serving the last known tokens and stays ready; afterwards it resyncs (a change made right after
 * the restart is served once the watch is back) and counts the watch restarts. Every wait is for an
 * event (a log line, an answer changing); the latencies are printed, never asserted.
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
const CHALLENGE_CM = 'kube-lego-challenges';

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

    const failed = (l: Record<string, unknown>) =>
      l.level === 'warn' &&
      l.configmap === CHALLENGE_CM &&
      l.msg === 'watching the ConfigMap failed; keeping the last copy and retrying';
    const failedBefore = r.logRecords().filter(failed).length;
    await kube.stopApiServer();
    const downAt = Date.now();
    // The responder notices (the watch broken, then a reconnect refused) and carries on.
    for (const occurrence of [failedBefore + 1, failedBefore + 2]) {
      await r.waitForLog(failed, occurrence);
      assert.equal(await status(a.token, a.domain), 200, 'the last known token is still served');
      assert.equal((await send(r.url, { path: '/readyz' })).status, 200, 'still ready');
    }
    const during = await send(r.metricsUrl, { path: '/metrics' });
    assert.ok(
      (sample(
        during.body,
        'kube_lego_responder_watch_restarts_total{configmap="challenge",reason="error"}',
      ) ?? 0) >= 1,
      'the broken watch is counted',
    );

    const restartAt = Date.now();
    await kube.startApiServer();
    const upAt = Date.now();
    // A change made right after the restart: a new token, and the old one removed.
    await writeChallenges(core, NAMESPACE, [b]);
    const writtenAt = Date.now();
    // The reconnect delay is capped at 8 s; a generous guard beyond it, for a loaded machine.
    for (;;) {
      const [bStatus, aStatus] = [await status(b.token, b.domain), await status(a.token, a.domain)];
      if (bStatus === 200 && aStatus === 404) break;
      assert.ok(
        Date.now() - writtenAt < 90_000,
        `not resynced 90 s after the write (b ${bStatus}, a ${aStatus})`,
      );
      await sleep(50);
    }
    const resyncMs = Date.now() - writtenAt;

    // From then on the watch serves changes again.
    const c = challenge(randomToken(), 'c.restart.example');
    const since = Date.now();
    await writeChallenges(core, NAMESPACE, [b, c]);
    while ((await status(c.token, c.domain)) !== 200) await sleep(10);
    console.log(
      `API server down ${restartAt - downAt} ms, starting took ${upAt - restartAt} ms, change served ${resyncMs} ms after the write, the next ${Date.now() - since} ms after its write`,
    );
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
    // An order, not a duration: the last sync is one with the API server started again.
    assert.ok(
      lastSync !== undefined && lastSync * 1000 >= restartAt,
      `synced after the restart (last sync ${lastSync}, restart began ${restartAt / 1000})`,
    );
    assert.ok(
      r
        .logRecords()
        .some((l) => l.msg === 'watching the ConfigMap again' || l.msg === 'listed the ConfigMap'),
    );
    // SIGKILL only for a responder that hangs.
    const stopped = await r.stop('SIGTERM', 60_000);
    assert.deepEqual(stopped, { code: 0, signal: null });
  });
});
