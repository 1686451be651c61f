/**
 * Layer: end to end (issue 13 item 5). The job as its own process against the real
 * kube-apiserver and Pebble, over 20 certificates that are all due (a first install): a run
 * whose budget is spent starts no further order, still writes the status with the certificates
 * left `Deferred` (no failure, no back-off, no Event), exits 0, and the next run carries on.
 *
 * The time budget is spent before the first order (1ms: the Lease and the lists alone take
 * longer), so nothing here depends on how fast orders are; the budget running out between two
 * orders is the component test's (test/unit/reconcile.test.ts, a clock each order moves). The
 * order budget is exact: 12 orders, then 8 deferred.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { decodeStatus, type CertificateStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob } from '../support/job-process.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);

const COUNT = 20;
const ORDER_BUDGET = 12;

let responder: ResponderProcess | undefined;
after(async () => {
  await responder?.stop();
});

async function recordedStatus(namespace: string): Promise<ReturnType<typeof decodeStatus>> {
  const cm = await core.readNamespacedConfigMap({ namespace, name: 'kube-lego-status' });
  return decodeStatus(cm.data);
}

function results(certificates: CertificateStatus[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of certificates) {
    const key = `${c.result}/${c.reason}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

test(`20 due certificates: a spent time budget defers them all, an order budget of ${ORDER_BUDGET} orders that many, the next run finishes`, async () => {
  const lego = await createNamespace('budget-lego');
  const app = await createNamespace('budget-app');
  responder = await startResponderProcess({
    namespace: lego,
    port: testEnv().pebble.httpPort,
    host: '127.0.0.1',
  });
  const names = Array.from({ length: COUNT }, (_, i) => `site-${String(i).padStart(2, '0')}`);
  for (const name of names) {
    await networking.createNamespacedIngress({
      namespace: app,
      body: annotatedIngress(name, [
        { hosts: [`${name}.budget.example.com`], secretName: `${name}-tls` },
      ]),
    });
  }
  const env = (extra: Record<string, string> = {}) =>
    jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, ...extra });

  // 1. The time budget is spent before the first order: nothing is ordered, all are deferred.
  const spent = await runJob(env({ LEGO_RUN_BUDGET: '1ms' }));
  assertExit(spent, 0);
  assert.equal(spent.summary?.result, 'Succeeded');
  assert.equal(spent.summary?.issued, 0);
  assert.equal(spent.summary?.deferred, COUNT);
  assert.equal(spent.summary?.failed, 0, 'a deferred certificate is not a failure');
  assert.equal(spent.summary?.acmeRequests, 0, 'no order was started');
  assert.equal(
    spent.logs.filter((l) => l.msg === 'run budget spent: no further order starts in this run')
      .length,
    1,
  );
  let recorded = await recordedStatus(lego);
  assert.equal(recorded.run?.deferred, COUNT);
  assert.deepEqual(results(recorded.certificates), { 'Deferred/RunBudgetExhausted': COUNT });
  assert.ok(
    recorded.certificates.every((c) => c.failures === 0 && c.retryAfter === undefined),
    'no back-off charged',
  );
  // Visible to the operator: `status` lists them (and says they are not good yet: exit 1).
  const shown = await runJob(env(), ['status']);
  assertExit(shown, 1);
  assert.match(shown.stdout, /Deferred/);
  assert.match(shown.stdout, /20 deferred to the next run/);

  // 2. An order budget: exactly that many orders, the rest deferred for the next run.
  const partial = await runJob(env({ LEGO_MAX_ORDERS_PER_RUN: String(ORDER_BUDGET) }), [], 600_000);
  assertExit(partial, 0);
  assert.equal(partial.summary?.issued, ORDER_BUDGET);
  assert.equal(partial.summary?.deferred, COUNT - ORDER_BUDGET);
  assert.equal(partial.summary?.failed, 0);
  recorded = await recordedStatus(lego);
  assert.deepEqual(results(recorded.certificates), {
    'Issued/SecretMissing': ORDER_BUDGET,
    'Deferred/OrderBudgetExhausted': COUNT - ORDER_BUDGET,
  });

  // 3. The next run (default budgets) carries on with the deferred ones only.
  const rest = await runJob(env(), [], 600_000);
  assertExit(rest, 0);
  assert.equal(rest.summary?.issued, COUNT - ORDER_BUDGET);
  assert.equal(rest.summary?.valid, ORDER_BUDGET);
  assert.equal(rest.summary?.deferred, undefined);
  recorded = await recordedStatus(lego);
  assert.equal(recorded.run?.deferred, undefined);
  assert.deepEqual(results(recorded.certificates), {
    'Valid/UpToDate': ORDER_BUDGET,
    'Issued/SecretMissing': COUNT - ORDER_BUDGET,
  });
  for (const name of names)
    await assertValidTlsSecret(await readSecret(app, `${name}-tls`), [
      `${name}.budget.example.com`,
    ]);

  // No Event but the issuance's: deferring is not news for the Ingress's owner.
  const events = (await core.listNamespacedEvent({ namespace: app })).items;
  assert.deepEqual([...new Set(events.map((e) => e.reason))], ['Issued']);
  assert.equal(events.length, COUNT);
});
