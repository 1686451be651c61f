/**
 * Layer: end to end (issue 10 item 3). The job as its own process against the real
 * kube-apiserver and Pebble: a certificate's own problem (here an Ingress entry with a wildcard
 * host, which HTTP-01 cannot validate) does not fail the run — the exit code is 0, the run is
 * recorded as `Succeeded` — and the Warning Event about it is aggregated across runs (one Event
 * whose `count` grows) instead of one Event per run.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { decodeStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob } from '../support/job-process.js';
import { startPebbleResponder, stopPebbleResponder } from '../support/pebble-responder.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);

after(stopPebbleResponder);

test('two runs over an Ingress with a wildcard entry and a valid one: exit 0 both times, one Warning Event counted twice', async () => {
  const lego = await createNamespace('outcome-lego');
  const app = await createNamespace('outcome-app');
  await startPebbleResponder(lego);
  await networking.createNamespacedIngress({
    namespace: app,
    body: annotatedIngress('mixed', [
      { hosts: ['*.wild.example.com'], secretName: 'wild-tls' },
      { hosts: ['fine.example.com'], secretName: 'fine-tls' },
    ]),
  });
  const env = jobEnv(lego, { LEGO_WATCH_NAMESPACE: app });

  const first = await runJob(env);
  assertExit(first, 0);
  assert.equal(first.summary?.issued, 1);
  assert.equal(first.summary?.failed, 1, 'the wildcard entry is counted as failed');
  assert.equal(first.summary?.result, 'Succeeded');
  await assertValidTlsSecret(await readSecret(app, 'fine-tls'), ['fine.example.com']);

  const second = await runJob(env);
  assertExit(second, 0);
  assert.equal(second.summary?.valid, 1);
  assert.equal(second.summary?.failed, 1);

  const status = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  const recorded = decodeStatus(status.data);
  assert.equal(recorded.run?.result, 'Succeeded', 'the run itself worked');
  assert.equal(
    recorded.certificates.find((c) => c.secretName === 'wild-tls')?.reason,
    'WildcardHost',
    'the entry’s problem is in the status',
  );

  const events = (
    await core.listNamespacedEvent({
      namespace: app,
      fieldSelector: 'involvedObject.kind=Ingress,involvedObject.name=mixed',
    })
  ).items;
  const warnings = events.filter((e) => e.type === 'Warning');
  assert.deepEqual(
    warnings.map((e) => e.reason),
    ['WildcardHost'],
    'one Warning Event, not one per run',
  );
  assert.ok((warnings[0]?.count ?? 0) >= 2, `count ${warnings[0]?.count}`);
  assert.ok(
    Date.parse(String(warnings[0]?.lastTimestamp)) >=
      Date.parse(String(warnings[0]?.firstTimestamp)),
  );
  assert.equal(events.filter((e) => e.reason === 'Issued').length, 1);
});
