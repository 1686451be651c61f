/**
 * The real responder process against the real kube-apiserver, under the identity it has in a
 * cluster (a ServiceAccount allowed only get/list/watch of the two ConfigMaps, by name): tokens
 * appear and disappear as the ConfigMap changes, a missing or deleted ConfigMap is empty,
 * malformed entries are skipped, /readyz waits for the first list, metrics live on their own port
 * (with the status ConfigMap's gauges), and SIGTERM during a burst loses no request already
 * accepted.
 *
 * Every wait here is for an event (an answer changing, a log line, the process ending), bounded
 * only by the test's timeout: on a loaded machine a change may take seconds to show, so the
 * latencies are printed, never asserted.
 */
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { encodeStatus, type RunStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import { send } from './http-request.js';
import {
  CHALLENGE_CM,
  STATUS_CM,
  challenge,
  createResponderIdentity,
  randomToken,
  writeChallenges,
  writeConfigMap,
} from './kube-fixtures.js';

const PREFIX = '/.well-known/acme-challenge/';
const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const dir = mkdtempSync(join(tmpdir(), 'responder-it-'));
const started: ResponderProcess[] = [];

after(async () => {
  await Promise.all(started.map((r) => r.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

async function identity(namespace: string, bound = true) {
  const env = testEnv();
  return createResponderIdentity(admin, {
    namespace,
    dir,
    server: env.apiServerUrl,
    caPem: readFileSync(env.caFile, 'utf8'),
    bound,
  });
}

async function start(
  namespace: string,
  kubeconfig: string,
  waitFor: 'ready' | 'listening' = 'ready',
): Promise<ResponderProcess> {
  const responder = await startResponderProcess({ namespace, kubeconfig, waitFor });
  started.push(responder);
  return responder;
}

/**
 * Polls until `path` with `host` answers `status`, however long that takes (the test's timeout
 * bounds it); returns the time since `since`, ms, for the test to print.
 */
async function timeUntil(
  responder: ResponderProcess,
  path: string,
  host: string,
  status: number,
  since: number,
): Promise<number> {
  const agent = new Agent({ keepAlive: true });
  try {
    for (;;) {
      const res = await send(responder.url, { path, host, agent });
      if (res.status === status) return Date.now() - since;
      await sleep(10);
    }
  } finally {
    agent.destroy();
  }
}

async function metrics(responder: ResponderProcess): Promise<string> {
  return (await send(responder.metricsUrl, { path: '/metrics' })).body;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the responder process against the API server', { timeout: 120_000 }, () => {
  let namespace: string;
  let responder: ResponderProcess;
  let startedAt: number;

  before(async () => {
    namespace = await createNamespace('responder');
    const id = await identity(namespace);
    // No ConfigMap yet: the job creates it on its first issuance. Ready all the same.
    startedAt = Date.now();
    responder = await start(namespace, id.kubeconfig);
  });

  test('a token written to the ConfigMap is served, and gone once it is removed', async () => {
    const a = challenge(randomToken(), 'a.responder.example');
    const b = challenge(randomToken(), 'b.responder.example');
    let since = Date.now();
    await writeChallenges(core, namespace, [a]);
    const appeared = await timeUntil(responder, PREFIX + a.token, a.domain, 200, since);
    const served = await send(responder.url, { path: PREFIX + a.token, host: a.domain });
    assert.equal(served.body, a.keyAuthorization);
    assert.equal(served.headers['cache-control'], 'no-store');
    assert.equal(
      (await send(responder.url, { path: PREFIX + a.token, host: b.domain })).status,
      404,
    );

    since = Date.now();
    await writeChallenges(core, namespace, [a, b]);
    const second = await timeUntil(responder, PREFIX + b.token, b.domain, 200, since);

    since = Date.now();
    await writeChallenges(core, namespace, [b]);
    const removed = await timeUntil(responder, PREFIX + a.token, a.domain, 404, since);
    assert.equal(
      (await send(responder.url, { path: PREFIX + b.token, host: b.domain })).status,
      200,
    );

    console.log(`appeared in ${appeared} ms, second in ${second} ms, removed in ${removed} ms`);
  });

  test('a deleted ConfigMap is an empty one, and one created again is watched', async () => {
    const c = challenge(randomToken(), 'c.responder.example');
    await writeChallenges(core, namespace, [c]);
    await timeUntil(responder, PREFIX + c.token, c.domain, 200, Date.now());
    let since = Date.now();
    await core.deleteNamespacedConfigMap({ name: CHALLENGE_CM, namespace });
    const gone = await timeUntil(responder, PREFIX + c.token, c.domain, 404, since);
    since = Date.now();
    await writeChallenges(core, namespace, [c]);
    const back = await timeUntil(responder, PREFIX + c.token, c.domain, 200, since);
    console.log(`gone ${gone} ms after the delete, served again ${back} ms after the create`);
  });

  test('a malformed entry is skipped with a log line; the others are served', async () => {
    const good = challenge(randomToken(), 'good.responder.example');
    const since = Date.now();
    await writeChallenges(core, namespace, [good], {
      'bad-token-without-json': 'not json',
      'other.key': '{}',
    });
    await timeUntil(responder, PREFIX + good.token, good.domain, 200, since);
    // The token is served the moment the entry is applied; its log lines cross a pipe to this
    // process and may arrive later: wait for each.
    const isMalformed = (r: Record<string, unknown>) =>
      r.msg === 'skipping a malformed challenge entry';
    for (const entry of ['bad-token-without-json', 'other.key']) {
      await responder.waitForLog((r) => isMalformed(r) && r.entry === entry);
    }
    const warnings = responder.logRecords().filter(isMalformed);
    assert.deepEqual(warnings.map((w) => w.entry).sort(), ['bad-token-without-json', 'other.key']);
    assert.ok(warnings.every((w) => w.level === 'warn' && typeof w.problem === 'string'));
  });

  test('no key authorization is ever logged at info level or above', async () => {
    const t = challenge(randomToken(), 'log.responder.example');
    await writeChallenges(core, namespace, [t]);
    await timeUntil(responder, PREFIX + t.token, t.domain, 200, Date.now());
    for (const record of responder.logRecords()) {
      if (record.level === 'debug') continue;
      assert.ok(!JSON.stringify(record).includes('thumbprint-'), JSON.stringify(record));
    }
  });

  test('metrics: on their own port only, with requests, tokens, sync time and the status ConfigMap', async () => {
    assert.equal((await send(responder.url, { path: '/metrics' })).status, 404);
    const run: RunStatus = {
      startedAt: '2026-11-30T01:00:00.000Z',
      finishedAt: '2026-11-30T01:00:05.000Z',
      result: 'Succeeded',
      entries: 1,
      issued: 1,
      renewed: 0,
      valid: 0,
      skipped: 0,
      failed: 0,
    };
    await writeConfigMap(
      core,
      namespace,
      STATUS_CM,
      encodeStatus(
        [
          {
            namespace: 'shop',
            secretName: 'web-tls',
            ingresses: ['shop/web'],
            hosts: ['shop.example.com'],
            notAfter: '2027-03-01T00:00:00.000Z',
            result: 'Issued',
            reason: 'SecretDoesNotExist',
            message: 'issued',
            checkedAt: '2026-11-30T01:00:04.000Z',
            failures: 0,
          },
        ],
        run,
      ),
    );
    // The responder sees the status ConfigMap through its watch: wait for the run to show.
    let text = await metrics(responder);
    while (!text.includes('kube_lego_last_run_success 1')) {
      await sleep(20);
      text = await metrics(responder);
    }
    assert.equal(
      sample(
        text,
        'kube_lego_certificate_not_after_timestamp_seconds{namespace="shop",secret="web-tls"}',
      ),
      Date.parse('2027-03-01T00:00:00.000Z') / 1000,
    );
    assert.equal(
      sample(
        text,
        'kube_lego_certificate_result{namespace="shop",secret="web-tls",result="Issued",source="Ingress"}',
      ),
      1,
    );
    assert.equal(sample(text, 'kube_lego_last_run_success'), 1);
    assert.equal(
      sample(text, 'kube_lego_last_run_timestamp_seconds'),
      Date.parse(run.finishedAt) / 1000,
    );
    assert.ok((sample(text, 'kube_lego_responder_requests_total{result="served"}') ?? 0) > 0);
    assert.ok((sample(text, 'kube_lego_responder_requests_total{result="not_found"}') ?? 0) > 0);
    assert.ok((sample(text, 'kube_lego_responder_tokens') ?? 0) >= 1);
    assert.equal(sample(text, 'kube_lego_responder_ready'), 1);
    const lastSync = sample(
      text,
      'kube_lego_responder_last_sync_timestamp_seconds{configmap="challenge"}',
    );
    // A sync of this process's own life: after it was started, not after now.
    assert.ok(
      lastSync !== undefined &&
        lastSync >= Math.floor(startedAt / 1000) &&
        lastSync <= Date.now() / 1000 + 1,
      `last sync ${lastSync}, responder started ${startedAt / 1000}`,
    );
  });

  test('its identity reads the two ConfigMaps and nothing else: no Secret, no other ConfigMap', async () => {
    const id = new KubeConfig();
    id.loadFromFile(join(dir, `responder-${namespace}.kubeconfig`));
    const asResponder = id.makeApiClient(CoreV1Api);
    await writeConfigMap(core, namespace, 'someone-else', { a: '1' });
    const code = async (call: Promise<unknown>) =>
      call.then(
        () => 200,
        (error: unknown) => (error as { code?: number }).code,
      );
    assert.equal(
      await code(asResponder.readNamespacedConfigMap({ name: CHALLENGE_CM, namespace })),
      200,
    );
    assert.equal(await code(asResponder.listNamespacedSecret({ namespace })), 403);
    assert.equal(
      await code(asResponder.readNamespacedConfigMap({ name: 'someone-else', namespace })),
      403,
    );
    assert.equal(
      await code(asResponder.listNamespacedConfigMap({ namespace })),
      403,
      'no unfiltered list',
    );
    assert.equal(
      await code(asResponder.patchNamespacedConfigMap({ name: CHALLENGE_CM, namespace, body: [] })),
      403,
      'no write',
    );
  });
});

describe('readiness', { timeout: 120_000 }, () => {
  test('/readyz is false until the first list succeeds, /healthz true all along', async () => {
    const namespace = await createNamespace('responder-ready');
    const id = await identity(namespace, false); // no RoleBinding yet: every list is Forbidden
    const responder = await start(namespace, id.kubeconfig, 'listening');
    // The refusal is logged; after it, and after the retry refused again, the responder is alive
    // and not ready.
    const refused = (r: Record<string, unknown>) =>
      r.level === 'warn' && r.configmap === CHALLENGE_CM && /Forbidden/.test(String(r.error));
    for (const occurrence of [1, 2]) {
      await responder.waitForLog(refused, occurrence);
      assert.equal((await send(responder.url, { path: '/healthz' })).status, 200);
      assert.equal((await send(responder.url, { path: '/readyz' })).status, 503);
    }
    assert.equal(sample(await metrics(responder), 'kube_lego_responder_ready'), 0);
    const since = Date.now();
    await id.bind();
    const readyAfter = await timeUntil(responder, '/readyz', 'x', 200, since);
    console.log(`ready ${readyAfter} ms after the RoleBinding`);
    const restarts = await metrics(responder);
    assert.ok(
      (sample(
        restarts,
        'kube_lego_responder_watch_restarts_total{configmap="challenge",reason="error"}',
      ) ?? 0) >= 1,
    );
  });
});

describe('SIGTERM during a burst', { timeout: 120_000 }, () => {
  test('every request the responder accepted is answered in full; then it exits 0', async () => {
    const namespace = await createNamespace('responder-term');
    const id = await identity(namespace);
    const t = challenge(randomToken(), 'burst.responder.example');
    await writeChallenges(core, namespace, [t]);
    const responder = await start(namespace, id.kubeconfig);
    await timeUntil(responder, PREFIX + t.token, t.domain, 200, Date.now());

    type Outcome = 'ok' | 'refused' | 'reset' | 'bad';
    const outcomes = new Map<number, { outcome: Outcome; sentAt: number; doneAt: number }>();
    // SIGTERM goes once this many answers have arrived: a burst under way, however slow the
    // machine is.
    const BEFORE_TERM = 200;
    let answered = 0;
    let burstUnderWay!: () => void;
    const underWay = new Promise<void>((resolve) => (burstUnderWay = resolve));
    let next = 0;
    // Each worker sends until a connection is refused: the listener is closed (or the process
    // gone), so the burst outlived the listener by construction.
    const worker = async (keepAlive: boolean) => {
      const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
      for (;;) {
        const n = next++;
        const sentAt = Date.now();
        let outcome: Outcome;
        try {
          const res = await send(responder.url, {
            path: `${PREFIX}${t.token}?n=${n}`,
            host: t.domain,
            agent,
          });
          outcome = res.status === 200 && res.body === t.keyAuthorization ? 'ok' : 'bad';
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          outcome = code === 'ECONNREFUSED' ? 'refused' : code === 'ECONNRESET' ? 'reset' : 'bad';
        }
        outcomes.set(n, { outcome, sentAt, doneAt: Date.now() });
        if (outcome === 'ok' && ++answered === BEFORE_TERM) burstUnderWay();
        if (outcome === 'refused') break;
      }
      if (agent) agent.destroy();
    };
    const workers = [
      ...Array.from({ length: 12 }, () => worker(false)),
      ...Array.from({ length: 4 }, () => worker(true)),
    ];
    // A worker that fails early (every answer bad) must not leave the wait hanging.
    await Promise.race([underWay, Promise.all(workers)]);
    const termAt = Date.now();
    // SIGKILL only for a responder that hangs: exit code 0 with no signal proves it ended by
    // itself, after its own shutdown grace at most.
    const exit = await responder.stop('SIGTERM', 60_000);
    const exitMs = Date.now() - termAt;
    await Promise.all(workers);
    // Its last lines may still be in the pipe when the exit is reported.
    await responder.waitForLog((r) => r.msg === 'stopped');

    const all = [...outcomes.values()];
    const count = (o: Outcome) => all.filter((x) => x.outcome === o).length;
    const answeredAfterTerm = all.filter((x) => x.outcome === 'ok' && x.doneAt >= termAt).length;
    console.log(
      `requests ${all.length}: ok ${count('ok')} (answered after SIGTERM ${answeredAfterTerm}), refused ${count('refused')}, reset ${count('reset')}, bad ${count('bad')}; exit ${exit.code} after ${exitMs} ms`,
    );
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(count('bad'), 0, 'no truncated or wrong answer');
    assert.ok(count('ok') > 100, 'a real burst');
    assert.ok(count('refused') > 0, 'the burst outlived the listener');

    // The responder logged (at debug) every request it answered: each got its full answer.
    const accepted = responder
      .logRecords()
      .filter((r) => r.msg === 'request' && typeof r.url === 'string' && r.url.includes('?n='))
      .map((r) => Number(/[?&]n=(\d+)/.exec(r.url as string)?.[1]));
    assert.ok(accepted.length > 100);
    const lost = accepted.filter((n) => outcomes.get(n)?.outcome !== 'ok');
    assert.deepEqual(lost, [], 'requests the responder accepted but the client never got');
    const logs = responder.logRecords().map((r) => r.msg);
    assert.ok(logs.includes('shutting down') && logs.includes('stopped'));
  });
});
