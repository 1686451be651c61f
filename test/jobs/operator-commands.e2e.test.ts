/**
 * End to end, issue 10 items 1 and 2: the job as its own process against the real
 * kube-apiserver and Pebble, on a simulated clock (KUBE_LEGO_TEST_CLOCK_OFFSET). A failure's
 * cause survives the back-off runs that follow it (`status`, `--output json`, the view of one
 * certificate with its last attempts); `retry` skips the back-off after the cause is fixed;
 * `renew` re-issues a valid certificate once, and so does the same request written with a plain
 * `kubectl patch` (a merge patch of one key), as the Job from the CronJob's template cannot take
 * arguments.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  BatchV1Api,
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { decodeStatus, requestKey } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, type JobResult } from '../support/job-process.js';
import { startPebbleResponder, stopPebbleResponder } from '../support/pebble-responder.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);
const batch = kc.makeApiClient(BatchV1Api);

after(stopPebbleResponder);

async function scene(name: string) {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  /** The job's settings at `minutes` on the simulated clock. */
  const env = (minutes: number) =>
    jobEnv(lego, {
      LEGO_WATCH_NAMESPACE: app,
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_CLOCK_OFFSET: `${minutes}m`,
      LEGO_SELF_CHECK: 'false',
      LEGO_SELF_CHECK_WAIT: '0s',
    });
  return { lego, app, env };
}

async function statusData(lego: string): Promise<Record<string, string>> {
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  return cm.data ?? {};
}

function logged(result: JobResult, msg: string): Record<string, unknown>[] {
  return result.logs.filter((l) => l.msg === msg);
}

/** Makes `host` resolve to an address where nothing listens (validation fails), or undoes it. */
async function resolveTo(host: string, address: string | undefined): Promise<void> {
  const response = await fetch(
    `${testEnv().challtestsrv.managementUrl}/${address ? 'add-a' : 'clear-a'}`,
    {
      method: 'POST',
      body: JSON.stringify(address ? { host, addresses: [address] } : { host }),
    },
  );
  assert.ok(response.ok);
}

describe('status keeps the cause; retry and renew', () => {
  test('a failure, then two back-off runs: status still shows the cause; retry after the fix issues at once', async () => {
    const s = await scene('cause');
    const host = 'cause.example.com';
    await resolveTo(host, '127.0.0.5');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('shop', [{ hosts: [host], secretName: 'shop-tls' }]),
    });
    await startPebbleResponder(s.lego);

    const failed = await runJob(s.env(0));
    assertExit(failed, 0); // the run itself worked; the certificate failed
    assert.equal(logged(failed, 'certificate could not be obtained').length, 1);
    const [first] = decodeStatus(await statusData(s.lego)).certificates;
    assert.ok(first?.lastFailureReason && first.lastFailureMessage, JSON.stringify(first));
    const { lastFailureReason: reason, lastFailureMessage: message } = first;

    for (const minutes of [15, 30]) {
      const waiting = await runJob(s.env(minutes));
      assertExit(waiting, 0);
      assert.equal(
        logged(waiting, 'certificate needed; backing off after earlier failures').length,
        1,
      );
      assert.equal(
        waiting.summary?.acmeRequests,
        0,
        'a back-off run sends nothing to the ACME server',
      );
    }
    const [kept] = decodeStatus(await statusData(s.lego)).certificates;
    assert.equal(kept?.result, 'BackingOff');
    assert.equal(kept.lastFailureReason, reason);
    assert.equal(kept.lastFailureMessage, message);
    assert.equal(kept.lastFailureAt, first.lastFailureAt);
    assert.equal(kept.failures, 1);
    assert.deepEqual(kept.history, first.history);

    const table = await runJob(s.env(30), ['status']);
    assertExit(table, 1);
    process.stdout.write(`\n--- status after a failure and two back-off runs ---\n${table.stdout}`);
    assert.match(
      table.stdout,
      new RegExp(
        `shop-tls\\s+${host.replaceAll('.', '\\.')}\\s+-\\s+-\\s+BackingOff\\s+${reason}\\s+1 failure, next in \\d+m\\s+\\S`,
      ),
    );
    assert.ok(table.stdout.includes(message.slice(0, 40)), 'the failure’s message, shortened');

    const json = await runJob(s.env(30), ['status', '--output', 'json']);
    assertExit(json, 1);
    const parsed = JSON.parse(json.stdout) as {
      certificates: { lastFailureReason?: string; lastFailureMessage?: string }[];
      run: { result: string };
    };
    assert.equal(parsed.certificates[0]?.lastFailureReason, reason);
    assert.equal(parsed.certificates[0]?.lastFailureMessage, message);
    assert.equal(parsed.run.result, 'Succeeded', 'a failing certificate does not fail the run');

    const wide = await runJob(s.env(30), ['status', '-o', 'wide']);
    assert.match(wide.stdout, /FAILURES\s+NEXT ATTEMPT\s+LAST SUCCESS/);

    // The cause is fixed: the name now resolves to the responder.
    await resolveTo(host, undefined);
    const stillWaiting = await runJob(s.env(45));
    assert.equal(logged(stillWaiting, 'issuing certificate').length, 0, 'without retry: back-off');
    assert.equal(stillWaiting.summary?.acmeRequests, 0);

    const retry = await runJob(s.env(45), ['retry', `${s.app}/shop-tls`]);
    assertExit(retry, 0);
    process.stdout.write(`\n--- retry ---\n${retry.stdout}`);
    assert.match(
      retry.stdout,
      new RegExp(`Retry requested for ${s.app}/shop-tls \\(${host.replaceAll('.', '\\.')}\\)`),
    );
    assert.match(retry.stdout, /kubectl -n \S+ create job --from=cronjob\/kube-lego /);
    assert.match(retry.stdout, /CronJob name assumed: no CronJob in \S+ is labelled/);
    assert.ok(requestKey('retry', s.app, 'shop-tls') in (await statusData(s.lego)));

    const issued = await runJob(s.env(45));
    assertExit(issued, 0);
    assert.equal(issued.summary?.issued, 1);
    assert.equal(logged(issued, 'honouring the operator’s request').length, 1);
    await assertValidTlsSecret(await readSecret(s.app, 'shop-tls'), [host]);
    const data = await statusData(s.lego);
    assert.equal(requestKey('retry', s.app, 'shop-tls') in data, false, 'the request is removed');

    const one = await runJob(s.env(50), ['status', `${s.app}/shop-tls`]);
    assertExit(one, 0);
    process.stdout.write(`\n--- status ${s.app}/shop-tls ---\n${one.stdout}`);
    assert.match(one.stdout, new RegExp(`Hosts:\\s+${host.replaceAll('.', '\\.')}`));
    assert.match(one.stdout, /Key type:\s+RSA 2048/);
    assert.ok(one.stdout.includes(testEnv().pebble.directoryUrl));
    assert.match(one.stdout, /Last attempts \(oldest first\):/);
    assert.match(one.stdout, new RegExp(`\\s+Failed\\s+${reason}\\s`));
    assert.match(one.stdout, /\s+Issued\s+SecretMissing\s/);
  });

  test('renew a valid certificate: re-issued once, then the next run orders nothing; the same with a plain kubectl patch', async () => {
    const s = await scene('renew');
    const host = 'renew.example.com';
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('blog', [{ hosts: [host], secretName: 'blog-tls' }]),
    });
    await startPebbleResponder(s.lego);
    assertExit(await runJob(s.env(0)), 0);
    const serial = async () =>
      (await readSecret(s.app, 'blog-tls'))?.data?.['tls.crt'] ?? assert.fail('no certificate');
    const before = await serial();

    // As the Helm chart names it: after the release. No controller runs it here.
    await batch.createNamespacedCronJob({
      namespace: s.lego,
      body: {
        metadata: {
          name: 'certs-kube-lego',
          labels: { 'app.kubernetes.io/name': 'kube-lego', 'app.kubernetes.io/component': 'job' },
        },
        spec: {
          schedule: '0 */8 * * *',
          suspend: true,
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [{ name: 'job', image: 'kube-lego:test', args: ['run'] }],
                },
              },
            },
          },
        },
      },
    });
    const renew = await runJob(s.env(10), ['renew', `${s.app}/blog-tls`]);
    assertExit(renew, 0);
    assert.match(renew.stdout, /Renewal requested for/);
    assert.match(
      renew.stdout,
      new RegExp(`kubectl -n ${s.lego} create job --from=cronjob/certs-kube-lego \\S+\n`),
      'the one-liner names the labelled CronJob',
    );
    assert.doesNotMatch(renew.stdout, /assumed/);
    const renewed = await runJob(s.env(10));
    assertExit(renewed, 0);
    assert.equal(renewed.summary?.renewed, 1);
    assert.ok(Number(renewed.summary?.acmeRequests) > 0);
    assert.equal(
      logged(renewed, 'renewing certificate')[0]?.reason,
      'RenewalRequested',
      'the decision chain’s own reason',
    );
    assert.notEqual(await serial(), before);
    const quiet = await runJob(s.env(20));
    assertExit(quiet, 0);
    assert.equal(quiet.summary?.valid, 1);
    assert.equal(quiet.summary?.renewed, 0, 'the run after that orders nothing');
    assert.equal(
      quiet.summary?.acmeRequests,
      2,
      'only the renewal-information ask about the new certificate: the directory and one GET',
    );

    // What `kubectl -n <ns> patch configmap kube-lego-status --type merge -p …` sends.
    await core.patchNamespacedConfigMap(
      {
        namespace: s.lego,
        name: 'kube-lego-status',
        body: { data: { [requestKey('renew', s.app, 'blog-tls')]: 'now' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const again = await runJob(s.env(30));
    assertExit(again, 0);
    assert.equal(again.summary?.renewed, 1);
    const last = await runJob(s.env(40));
    assert.equal(last.summary?.renewed, 0);
    assert.equal(last.summary?.acmeRequests, 2, 'the renewal-information ask only');
    const [entry] = decodeStatus(await statusData(s.lego)).certificates;
    assert.deepEqual(
      entry?.history?.map((a) => `${a.result} ${a.reason}`),
      ['Issued SecretMissing', 'Renewed RenewalRequested', 'Renewed RenewalRequested'],
    );
  });

  test('bad arguments exit 2 naming what is wrong; retry --all-failed with nothing failing says so', async () => {
    const s = await scene('args');
    const neither = await runJob(s.env(0), ['retry']);
    assertExit(neither, 2);
    assert.match(neither.stderr, /either <namespace>\/<secret> or --all-failed/);
    const malformed = await runJob(s.env(0), ['renew', 'no-slash']);
    assertExit(malformed, 2);
    assert.match(
      malformed.stderr,
      /certificate="no-slash" is not valid: expected <namespace>\/<secret>/,
    );
    // A run first, so that the namespace holds an install (status finds none otherwise, and
    // says where the installs are instead).
    assertExit(await runJob(s.env(0)), 0);
    const unknown = await runJob(s.env(0), ['status', `${s.app}/missing`]);
    assertExit(unknown, 1);
    assert.match(unknown.stderr, /no certificate .*\/missing in the status ConfigMap/);
    const none = await runJob(s.env(0), ['retry', '--all-failed']);
    assertExit(none, 0);
    assert.match(none.stdout, /No certificate is failing: nothing to retry\./);
  });
});
