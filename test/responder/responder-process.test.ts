/**
 * The real responder process against the real kube-apiserver, under the identity it has in a
 * cluster (a ServiceAccount allowed only get/list/watch of the two ConfigMaps, by name): tokens
 * appear and disappear within a second, a missing or deleted ConfigMap is empty, malformed
 * entries are skipped, /readyz waits for the first list, metrics live on their own port (with the
 * status ConfigMap's gauges), and SIGTERM during a burst loses no request already accepted.
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

/** Polls until `path` with `host` answers `status`; returns the time it took, ms. */
async function timeUntil(
  responder: ResponderProcess,
  path: string,
  host: string,
  status: number,
  since: number,
  limitMs = 5_000,
): Promise<number> {
  const agent = new Agent({ keepAlive: true });
  try {
    for (;;) {
      const res = await send(responder.url, { path, host, agent });
      if (res.status === status) return Date.now() - since;
      if (Date.now() - since > limitMs) {
        assert.fail(`${path} for ${host} was still ${res.status} after ${limitMs} ms`);
      }
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

  before(async () => {
    namespace = await createNamespace('responder');
    const id = await identity(namespace);
    // No ConfigMap yet: the job creates it on its first issuance. Ready all the same.
    responder = await start(namespace, id.kubeconfig);
  });

  test('a token written to the ConfigMap is served within one second, and gone within one second of removal', async () => {
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
    assert.ok(appeared < 1_000, `served after ${appeared} ms`);
    assert.ok(second < 1_000, `served after ${second} ms`);
    assert.ok(removed < 1_000, `gone after ${removed} ms`);
  });

  test('a deleted ConfigMap is an empty one, and one created again is watched', async () => {
    const c = challenge(randomToken(), 'c.responder.example');
    await writeChallenges(core, namespace, [c]);
    await timeUntil(responder, PREFIX + c.token, c.domain, 200, Date.now());
    let since = Date.now();
    await core.deleteNamespacedConfigMap({ name: CHALLENGE_CM, namespace });
    assert.ok((await timeUntil(responder, PREFIX + c.token, c.domain, 404, since)) < 1_000);
    since = Date.now();
    await writeChallenges(core, namespace, [c]);
    assert.ok((await timeUntil(responder, PREFIX + c.token, c.domain, 200, since)) < 1_000);
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
    // process and may arrive a little later.
    const malformed = () =>
      responder.logRecords().filter((r) => r.msg === 'skipping a malformed challenge entry');
    for (let i = 0; i < 40 && malformed().length < 2; i++) await sleep(50);
    const warnings = malformed();
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
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await metrics(responder);
      if (text.includes('kube_lego_last_run_success 1')) break;
      await sleep(20);
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
    assert.ok(lastSync !== undefined && Date.now() / 1000 - lastSync < 60, `last sync ${lastSync}`);
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
    for (let i = 0; i < 5; i++) {
      assert.equal((await send(responder.url, { path: '/healthz' })).status, 200);
      assert.equal((await send(responder.url, { path: '/readyz' })).status, 503);
      await sleep(200);
    }
    assert.equal(sample(await metrics(responder), 'kube_lego_responder_ready'), 0);
    assert.ok(
      responder.logRecords().some((r) => r.level === 'warn' && /Forbidden/.test(String(r.error))),
      'the refusal is logged',
    );
    const since = Date.now();
    await id.bind();
    const readyAfter = await timeUntil(responder, '/readyz', 'x', 200, since, 20_000);
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
    let next = 0;
    let termAt = Infinity;
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
        if (outcome === 'refused' || sentAt > termAt + 8_000) break;
      }
      if (agent) agent.destroy();
    };
    const workers = [
      ...Array.from({ length: 12 }, () => worker(false)),
      ...Array.from({ length: 4 }, () => worker(true)),
    ];
    await sleep(700);
    termAt = Date.now();
    const stopped = responder.stop('SIGTERM', 15_000);
    const exit = await stopped;
    const exitMs = Date.now() - termAt;
    await Promise.all(workers);

    const all = [...outcomes.values()];
    const count = (o: Outcome) => all.filter((x) => x.outcome === o).length;
    const answeredAfterTerm = all.filter((x) => x.outcome === 'ok' && x.doneAt >= termAt).length;
    console.log(
      `requests ${all.length}: ok ${count('ok')} (answered after SIGTERM ${answeredAfterTerm}), refused ${count('refused')}, reset ${count('reset')}, bad ${count('bad')}; exit ${exit.code} after ${exitMs} ms`,
    );
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(exitMs < 6_000, `exited ${exitMs} ms after SIGTERM`);
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
