/**
 * Layer: e2e. End to end: the job as its own process (as the CronJob runs it), the real responder process
 * serving the tokens, the real kube-apiserver, and Pebble validating over HTTP-01.
 *
 * Each test works in namespaces of its own: LEGO_NAMESPACE for the job's objects and
 * LEGO_WATCH_NAMESPACE for the user's Ingresses, so runs never see each other's Ingresses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import acme from 'acme-client';
import { decodeStatus } from '../../shared/status-entries.js';
import { parseAccountSecret } from '../../jobs/kube/account-secret.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress, createResponderEndpoints } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, startJob, type JobResult } from '../support/job-process.js';
import { recordWatch, type WatchRecorder } from '../support/watch-recorder.js';
import { startPebbleResponder, stopPebbleResponder } from '../support/pebble-responder.js';
import type { ResponderProcess } from '../support/responder-process.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);
const DAY = 24 * 3_600_000;

/** A fresh pair of namespaces and a responder watching the job's one. */
interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
  responder: ResponderProcess;
}

async function scene(name: string): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  // Pebble dials one port: one responder at a time, watching this scene's namespace.
  const responder = await startPebbleResponder(lego);
  return {
    lego,
    app,
    env: (extra = {}) => jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, ...extra }),
    responder,
  };
}

after(stopPebbleResponder);

async function events(
  namespace: string,
  ingressName: string,
): Promise<{ reason: string; type: string; message: string }[]> {
  const list = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${ingressName}`,
  });
  return list.items.map((e) => ({
    reason: e.reason ?? '',
    type: e.type ?? '',
    message: e.message ?? '',
  }));
}

async function status(lego: string) {
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  return decodeStatus(cm.data);
}

function decisions(result: JobResult): Record<string, unknown>[] {
  return result.logs.filter((l) => typeof l.decision === 'string');
}

/**
 * Waits until the watch has delivered every change made before now: writes a marker Ingress into
 * the watched namespace and waits for its event (a watch delivers changes in order).
 */
async function settle(watched: WatchRecorder<V1Ingress>, namespace: string): Promise<void> {
  const marker = `marker-${Math.random().toString(36).slice(2, 8)}`;
  await networking.createNamespacedIngress({
    namespace,
    // An Ingress needs a rule: one host, no annotation (the job would not look at it anyway).
    body: annotatedIngress(marker, [{ hosts: [`${marker}.example.com`], secretName: marker }], {
      annotated: false,
    }),
  });
  await watched.until((e) => e.object.metadata?.name === marker);
  watched.stop();
}

describe('the reconcile job against Pebble', () => {
  let s: Scene;
  before(async () => {
    s = await scene('first');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('shop', [
        { hosts: ['shop.example.com', 'www.shop.example.com'], secretName: 'shop-tls' },
        { hosts: ['api.shop.example.com'], secretName: 'api-tls' },
      ]),
    });
  });

  test('first issuance: one certificate per TLS entry, stored whole, with Events and status', async () => {
    const result = await runJob(s.env());
    assertExit(result, 0);
    await assertValidTlsSecret(await readSecret(s.app, 'shop-tls'), [
      'shop.example.com',
      'www.shop.example.com',
    ]);
    await assertValidTlsSecret(await readSecret(s.app, 'api-tls'), ['api.shop.example.com']);
    const secret = await readSecret(s.app, 'shop-tls');
    const annotations = secret!.metadata!.annotations!;
    assert.equal(annotations['kube-lego.io/directory-url'], testEnv().pebble.directoryUrl);
    assert.equal(annotations['kube-lego.io/hosts'], 'shop.example.com,www.shop.example.com');
    assert.ok(Date.parse(annotations['kube-lego.io/not-after']!) > Date.now());
    assert.ok(Date.parse(annotations['kube-lego.io/issued-at']!) <= Date.now());

    assert.equal(result.summary?.issued, 2);
    assert.equal(result.summary?.failed, 0);
    const reasons = decisions(result).map((d) => d.reason);
    assert.deepEqual(reasons, ['SecretMissing', 'SecretMissing']);
    assert.ok((await events(s.app, 'shop')).filter((e) => e.reason === 'Issued').length >= 2);

    const recorded = await status(s.lego);
    assert.equal(recorded.run?.result, 'Succeeded');
    assert.deepEqual(
      recorded.certificates.map((c) => [c.secretName, c.result, c.notAfter !== null]),
      [
        ['api-tls', 'Issued', true],
        ['shop-tls', 'Issued', true],
      ],
    );
    // Left clean: no challenge route, no token.
    await assert.rejects(
      networking.readNamespacedIngress({ namespace: s.lego, name: 'kube-lego-nginx' }),
      { code: 404 },
    );
    const challenges = await core.readNamespacedConfigMap({
      namespace: s.lego,
      name: 'kube-lego-challenges',
    });
    assert.deepEqual(Object.keys(challenges.data ?? {}), []);
  });

  test('a second run changes nothing and only asks for the renewal windows; a third sends no ACME request', async () => {
    const before = await readSecret(s.app, 'shop-tls');
    const result = await runJob(s.env());
    assertExit(result, 0);
    // ARI (RFC 9773): the new certificates are asked about by the run after their issuance.
    assert.equal(
      result.summary?.acmeRequests,
      3,
      'the directory and one renewalInfo GET per certificate',
    );
    assert.equal(result.summary?.valid, 2);
    assert.deepEqual(
      decisions(result).map((d) => d.reason),
      ['UpToDate', 'UpToDate'],
    );
    const afterRun = await readSecret(s.app, 'shop-tls');
    assert.equal(afterRun!.metadata!.resourceVersion, before!.metadata!.resourceVersion);
    const third = await runJob(s.env());
    assertExit(third, 0);
    assert.equal(third.summary?.acmeRequests, 0, 'within the answers’ Retry-After: nothing to ask');
    assert.equal(third.summary?.valid, 2);
  });

  test('hosts added and removed: the certificate is replaced with exactly the new set', async () => {
    const current = await networking.readNamespacedIngress({ namespace: s.app, name: 'shop' });
    current.spec!.tls![0]!.hosts = ['shop.example.com', 'new.shop.example.com'];
    await networking.replaceNamespacedIngress({ namespace: s.app, name: 'shop', body: current });
    const result = await runJob(s.env());
    assertExit(result, 0);
    assert.ok(
      decisions(result).some((d) => d.reason === 'HostsChanged' && d.secret === 'shop-tls'),
    );
    await assertValidTlsSecret(await readSecret(s.app, 'shop-tls'), [
      'new.shop.example.com',
      'shop.example.com',
    ]);
    assert.equal(result.summary?.renewed, 1);
  });

  test('the account is registered once and reused', async () => {
    const secret = await readSecret(s.lego, 'kube-lego-account');
    const accounts = parseAccountSecret(secret?.data).accounts;
    assert.equal(accounts.length, 1);
    assert.equal(accounts[0]!.directoryUrl, testEnv().pebble.directoryUrl);
  });
});

describe('renewal', () => {
  test('a certificate shorter-lived than LEGO_MINIMUM_VALIDITY is not renewed on every run, and is renewed when a third of its life is left', async () => {
    const s = await scene('renew');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('short', [{ hosts: ['short.example.com'], secretName: 'short-tls' }]),
    });
    // A minimum validity longer than the certificate's whole life (Pebble's default profile: 90
    // days) is what a short-lived certificate meets against the 720h default: without the
    // lifetime / 3 rule, every run would order again. The runs happen "later" through the job's
    // test clock, never by waiting: a day either side of the renewal point, so no load on the
    // machine can move a run across it.
    // The lifetime rule alone (ARI off): Pebble's ARI window would otherwise decide instead.
    const env = s.env({ LEGO_MINIMUM_VALIDITY: `${100 * 24}h`, LEGO_RENEWAL_INFO: 'false' });
    assertExit(await runJob(env), 0);
    const first = await assertValidTlsSecret(await readSecret(s.app, 'short-tls'), [
      'short.example.com',
    ]);
    const lifetime = Date.parse(first.validTo) - Date.parse(first.validFrom);
    assert.ok(lifetime < 100 * DAY, `shorter than the minimum validity (${lifetime} ms)`);
    const dueAt = Date.parse(first.validTo) - lifetime / 3;
    const at = (instant: number) => ({
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_CLOCK_OFFSET: `${Math.round((instant - Date.now()) / 1000)}s`,
    });

    for (const early of [await runJob(env), await runJob({ ...env, ...at(dueAt - DAY) })]) {
      assertExit(early, 0);
      assert.equal(
        early.summary?.acmeRequests,
        0,
        'not renewed while more than a third of its life is left',
      );
    }

    const late = await runJob({ ...env, ...at(dueAt + DAY) });
    assertExit(late, 0);
    const renewal = decisions(late).find((d) => d.decision === 'Issue');
    assert.equal(renewal?.reason, 'RenewalDue', JSON.stringify(renewal));
    assert.match(
      String(renewal?.message),
      /a third of its .* lifetime, because LEGO_MINIMUM_VALIDITY/,
    );
    assert.equal(late.summary?.renewed, 1);
    const second = await assertValidTlsSecret(await readSecret(s.app, 'short-tls'), [
      'short.example.com',
    ]);
    assert.notEqual(second.serialNumber, first.serialNumber);
  });
});

describe('damaged and foreign Secrets', () => {
  let s: Scene;
  before(async () => {
    s = await scene('damaged');
  });

  test('garbage in tls.crt is replaced, and the user’s other keys, labels and annotations are kept', async () => {
    await core.createNamespacedSecret({
      namespace: s.app,
      body: {
        metadata: { name: 'garbage-tls', labels: { team: 'web' }, annotations: { owner: 'alice' } },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from('not a certificate').toString('base64'),
          'tls.key': Buffer.from('not a key').toString('base64'),
          'ca.crt': Buffer.from('user data').toString('base64'),
        },
      },
    });
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('garbage', [
        { hosts: ['garbage.example.com'], secretName: 'garbage-tls' },
      ]),
    });
    const result = await runJob(s.env());
    assertExit(result, 0);
    assert.ok(decisions(result).some((d) => d.reason === 'CertificateUnparseable'));
    const secret = await readSecret(s.app, 'garbage-tls');
    await assertValidTlsSecret(secret, ['garbage.example.com']);
    assert.equal(Buffer.from(secret!.data!['ca.crt']!, 'base64').toString(), 'user data');
    assert.equal(secret!.metadata!.labels!.team, 'web');
    assert.equal(secret!.metadata!.annotations!.owner, 'alice');
  });

  test('a key that does not match the certificate is replaced', async () => {
    const secret = await readSecret(s.app, 'garbage-tls');
    const otherKey = (await acme.crypto.createPrivateKey()).toString();
    secret!.data!['tls.key'] = Buffer.from(otherKey).toString('base64');
    await core.replaceNamespacedSecret({ namespace: s.app, name: 'garbage-tls', body: secret! });
    const result = await runJob(s.env());
    assertExit(result, 0);
    assert.ok(decisions(result).some((d) => d.reason === 'PrivateKeyMismatch'));
    await assertValidTlsSecret(await readSecret(s.app, 'garbage-tls'), ['garbage.example.com']);
  });

  test('a Secret of another type is never replaced, orders nothing, and says why', async () => {
    await core.createNamespacedSecret({
      namespace: s.app,
      body: { metadata: { name: 'opaque' }, type: 'Opaque', stringData: { password: 'hunter2' } },
    });
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('foreign', [{ hosts: ['foreign.example.com'], secretName: 'opaque' }]),
    });
    const before = await readSecret(s.app, 'opaque');
    const result = await runJob(s.env());
    assertExit(result, 0); // a certificate's problem: the run itself worked
    assert.equal(result.summary?.issued, 0);
    assert.equal(
      result.summary?.acmeRequests,
      2,
      'no order: only the renewal-information ask about garbage-tls, issued by the tests above',
    );
    const afterRun = await readSecret(s.app, 'opaque');
    assert.equal(afterRun!.metadata!.resourceVersion, before!.metadata!.resourceVersion);
    assert.equal(afterRun!.type, 'Opaque');
    assert.ok(
      (await events(s.app, 'foreign')).some(
        (e) => e.reason === 'SecretTypeMismatch' && e.type === 'Warning',
      ),
    );
  });
});

describe('what the job leaves alone', () => {
  test('an Ingress without the annotation and one with an unsupported class are untouched', async () => {
    const s = await scene('alone');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('plain', [{ hosts: ['plain.example.com'], secretName: 'plain-tls' }], {
        annotated: false,
      }),
    });
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress(
        'traefik',
        [{ hosts: ['traefik.example.com'], secretName: 'traefik-tls' }],
        {
          className: 'traefik',
        },
      ),
    });
    const plainBefore = await networking.readNamespacedIngress({ namespace: s.app, name: 'plain' });
    const result = await runJob(s.env());
    assertExit(result, 0);
    assert.equal(result.summary?.acmeRequests, 0);
    assert.equal(await readSecret(s.app, 'plain-tls'), undefined);
    assert.equal(await readSecret(s.app, 'traefik-tls'), undefined);
    const skipped = result.logs.find((l) => l.msg === 'ingress skipped');
    assert.equal(skipped?.ingress, 'traefik');
    assert.equal(skipped?.reason, 'UnsupportedIngressClass');
    const plainAfter = await networking.readNamespacedIngress({ namespace: s.app, name: 'plain' });
    assert.equal(plainAfter.metadata?.resourceVersion, plainBefore.metadata?.resourceVersion);
  });

  test('the same secretName with different hosts: no certificate for either, an Event on each', async () => {
    const s = await scene('conflict');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('one', [{ hosts: ['one.example.com'], secretName: 'shared-tls' }]),
    });
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('two', [{ hosts: ['two.example.com'], secretName: 'shared-tls' }]),
    });
    const result = await runJob(s.env());
    assertExit(result, 0); // a certificate's problem: the run itself worked
    assert.equal(result.summary?.acmeRequests, 0);
    assert.equal(await readSecret(s.app, 'shared-tls'), undefined);
    for (const name of ['one', 'two']) {
      assert.ok(
        (await events(s.app, name)).some(
          (e) => e.reason === 'SecretNameConflict' && e.type === 'Warning',
        ),
        `Event on ${name}`,
      );
    }
  });
});

describe('failures', () => {
  test('a token that is not served: nothing written, back-off recorded, and the next run does not order again', async () => {
    const s = await scene('unserved');
    // Pebble resolves this name to an address where nothing listens, so its validation fails.
    const response = await fetch(`${testEnv().challtestsrv.managementUrl}/add-a`, {
      method: 'POST',
      body: JSON.stringify({ host: 'unserved.example.com', addresses: ['127.0.0.3'] }),
    });
    assert.ok(response.ok);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('broken', [
        { hosts: ['ok.example.com', 'unserved.example.com'], secretName: 'broken-tls' },
      ]),
    });
    // Without the self-check the job asks Pebble at once, which is what is tested here.
    const env = s.env({ LEGO_SELF_CHECK: 'false', LEGO_SELF_CHECK_WAIT: '0s' });
    const first = await runJob(env);
    assertExit(first, 0); // a certificate's failure: the run itself worked
    assert.ok((first.summary?.acmeRequests as number) > 0);
    assert.equal(await readSecret(s.app, 'broken-tls'), undefined, 'no partial certificate');
    const failure = first.logs.find((l) => l.msg === 'certificate could not be obtained');
    // Pebble's problem type survives into the reason (RFC 8555 §6.7: connection).
    assert.equal(failure?.reason, 'AcmeConnection', JSON.stringify(failure));
    const recorded = (await status(s.lego)).certificates.find((c) => c.secretName === 'broken-tls');
    assert.equal(recorded?.result, 'Failed');
    assert.equal(recorded?.failures, 1);
    // An hour from the failure, as the job recorded both (no wall-clock reading here).
    assert.equal(
      Date.parse(recorded.retryAfter!) - Date.parse(recorded.lastFailureAt!),
      60 * 60_000,
      `back-off of an hour (${recorded.lastFailureAt} → ${recorded.retryAfter})`,
    );
    assert.ok((await events(s.app, 'broken')).some((e) => e.reason === 'IssuanceFailed'));
    const challenges = await core.readNamespacedConfigMap({
      namespace: s.lego,
      name: 'kube-lego-challenges',
    });
    assert.deepEqual(Object.keys(challenges.data ?? {}), [], 'tokens removed');

    const second = await runJob(env);
    assertExit(second, 0);
    assert.equal(second.summary?.acmeRequests, 0, 'no new order while backing off');
    assert.ok(decisions(second).some((d) => d.reason === 'BackingOff'));
    const still = (await status(s.lego)).certificates.find((c) => c.secretName === 'broken-tls');
    assert.equal(still?.result, 'BackingOff');
    assert.equal(still?.failures, 1);
  });

  test('a route that never answers fails the entry at the route preflight, before any order', async () => {
    const s = await scene('selfcheck');
    await fetch(`${testEnv().challtestsrv.managementUrl}/add-a`, {
      method: 'POST',
      body: JSON.stringify({ host: 'nowhere.example.com', addresses: ['127.0.0.4'] }),
    });
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('nowhere', [
        { hosts: ['nowhere.example.com'], secretName: 'nowhere-tls' },
      ]),
    });
    const result = await runJob(s.env({ LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '1s' }));
    assertExit(result, 0); // a certificate's failure: the run itself worked
    const failure = result.logs.find((l) => l.msg === 'certificate could not be obtained');
    assert.equal(failure?.reason, 'RouteUnreachable');
    assert.equal(result.summary?.acmeRequests, 0, 'no order');
    assert.equal(await readSecret(s.app, 'nowhere-tls'), undefined);
  });
});

describe('concurrency and configuration changes', () => {
  test('two runs started at once: one works, the other exits 0 without doing anything', async () => {
    const s = await scene('twice');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('twice', [{ hosts: ['twice.example.com'], secretName: 'twice-tls' }]),
    });
    // The first run's self-check cannot pass while no responder serves its token: it is busy
    // until the responder comes back, which happens only after the second run has ended.
    await s.responder.stop();
    const env = s.env({
      LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '200ms',
      LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '600s',
    });
    const first = startJob(env);
    await first.waitForLog((l) => l.msg === 'issuing certificate');
    const b = await runJob(env);
    await startPebbleResponder(s.lego);
    const a = await first.result;
    assertExit(a, 0);
    assertExit(b, 0);
    const stood = [a, b].filter((r) =>
      r.logs.some((l) => l.msg === 'another run is working; exiting without doing anything'),
    );
    const worked = [a, b].filter((r) => r.summary !== undefined);
    assert.equal(stood.length, 1, 'exactly one run stood down');
    assert.equal(worked.length, 1, 'exactly one run worked');
    assert.equal(worked[0]!.summary?.issued, 1);
    await assertValidTlsSecret(await readSecret(s.app, 'twice-tls'), ['twice.example.com']);
  });

  test('LEGO_URL changed: a second account is registered beside the first, and certificates are re-issued', async () => {
    const s = await scene('url');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('moving', [
        { hosts: ['moving.example.com'], secretName: 'moving-tls' },
      ]),
    });
    assertExit(await runJob(s.env()), 0);
    // The same Pebble under another name: a different directory URL, as staging and production are.
    const otherUrl = testEnv().pebble.directoryUrl.replace('127.0.0.1', 'localhost');
    const result = await runJob(s.env({ LEGO_URL: otherUrl }));
    assertExit(result, 0);
    assert.ok(decisions(result).some((d) => d.reason === 'DirectoryChanged'));
    const secret = await readSecret(s.app, 'moving-tls');
    await assertValidTlsSecret(secret, ['moving.example.com']);
    assert.equal(secret!.metadata!.annotations!['kube-lego.io/directory-url'], otherUrl);
    const accounts = parseAccountSecret(
      (await readSecret(s.lego, 'kube-lego-account'))?.data,
    ).accounts;
    assert.deepEqual(
      accounts.map((a) => a.directoryUrl).sort(),
      [testEnv().pebble.directoryUrl, otherUrl].sort(),
    );
  });

  test('an account the server no longer knows is registered again', async () => {
    const s = await scene('gone');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('gone', [{ hosts: ['gone.example.com'], secretName: 'gone-tls' }]),
    });
    assertExit(await runJob(s.env()), 0);
    const stored = parseAccountSecret((await readSecret(s.lego, 'kube-lego-account'))?.data)
      .accounts[0]!;
    const client = new acme.Client({
      directoryUrl: stored.directoryUrl,
      accountKey: stored.privateKeyPem,
      accountUrl: stored.accountUrl,
    });
    await client.updateAccount({ status: 'deactivated' });
    const current = await networking.readNamespacedIngress({ namespace: s.app, name: 'gone' });
    current.spec!.tls![0]!.hosts!.push('gone2.example.com');
    await networking.replaceNamespacedIngress({ namespace: s.app, name: 'gone', body: current });
    const result = await runJob(s.env());
    assertExit(result, 0);
    assert.ok(
      result.logs.some(
        (l) =>
          l.msg === 'the ACME server no longer knows the stored account; registering a new one',
      ),
    );
    const accounts = parseAccountSecret(
      (await readSecret(s.lego, 'kube-lego-account'))?.data,
    ).accounts;
    assert.equal(accounts.length, 1);
    assert.notEqual(accounts[0]!.accountUrl, stored.accountUrl);
    await assertValidTlsSecret(await readSecret(s.app, 'gone-tls'), [
      'gone.example.com',
      'gone2.example.com',
    ]);
  });
});

describe('routing objects as the apiserver stores them, during an order', () => {
  test('nginx: a Service and an Ingress of the user’s class with a rule per host, removed afterwards', async () => {
    const s = await scene('nginx');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress(
        'routed',
        [{ hosts: ['r1.example.com', 'r2.example.com'], secretName: 'routed-tls' }],
        {
          className: 'nginx',
        },
      ),
    });
    // Every change to the job's namespace's Ingresses, observed while the order runs.
    const watched = await recordWatch<V1Ingress>(
      `/apis/networking.k8s.io/v1/namespaces/${s.lego}/ingresses`,
    );
    const result = await runJob(s.env({ LEGO_SELF_CHECK: 'false', LEGO_SELF_CHECK_WAIT: '0s' }));
    await settle(watched, s.lego);
    assertExit(result, 0);
    const seen = watched.events.find(
      (e) => e.type !== 'DELETED' && e.object.metadata?.name === 'kube-lego-nginx',
    )?.object;
    assert.ok(seen, 'the challenge Ingress existed while the order ran');
    assert.equal(seen.spec?.ingressClassName, 'nginx');
    assert.equal(seen.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kube-lego');
    assert.deepEqual(seen.spec?.rules?.map((r) => r.host).sort(), [
      'r1.example.com',
      'r2.example.com',
    ]);
    for (const rule of seen.spec?.rules ?? []) {
      const path = rule.http?.paths[0];
      assert.equal(path?.path, '/.well-known/acme-challenge/');
      assert.equal(path?.pathType, 'Prefix');
      assert.equal(path?.backend.service?.name, 'kube-lego-nginx');
    }
    const service = await core
      .readNamespacedService({ namespace: s.lego, name: 'kube-lego-nginx' })
      .catch(() => undefined);
    // The Service may be kept or cleaned; while it exists it selects the responder pods.
    if (service) assert.deepEqual(service.spec?.selector, { app: 'kube-lego' });
    await assert.rejects(
      networking.readNamespacedIngress({ namespace: s.lego, name: 'kube-lego-nginx' }),
      { code: 404 },
    );
  });

  test('gce: the challenge path is added to the user’s Ingress during the order and removed afterwards', async () => {
    const s = await scene('gce');
    // The responder's ready addresses, as the endpointslice controller would publish them.
    await core.createNamespacedService({
      namespace: s.lego,
      body: {
        metadata: { name: 'kube-lego-nginx' },
        spec: {
          selector: { app: 'kube-lego' },
          ports: [{ name: 'http', port: 8080, targetPort: 8080 }],
        },
      },
    });
    await createResponderEndpoints(s.lego, [{ address: '192.0.2.21', ready: true }]);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('gce-site', [{ hosts: ['gce.example.com'], secretName: 'gce-tls' }], {
        className: 'gce',
      }),
    });
    const before = await networking.readNamespacedIngress({ namespace: s.app, name: 'gce-site' });
    const watched = await recordWatch<V1Ingress>(
      `/apis/networking.k8s.io/v1/namespaces/${s.app}/ingresses`,
    );
    const result = await runJob(s.env({ LEGO_SELF_CHECK: 'false', LEGO_SELF_CHECK_WAIT: '0s' }));
    await settle(watched, s.app);
    assertExit(result, 0);
    const during = watched.events.find(
      (e) =>
        e.object.metadata?.name === 'gce-site' &&
        JSON.stringify(e.object.spec).includes('acme-challenge'),
    )?.object;
    assert.ok(during, 'the challenge path was on the user’s Ingress while the order ran');
    const rule = during.spec?.rules?.find((r) => r.host === 'gce.example.com');
    const challengePath = rule?.http?.paths.find((p) => p.path?.includes('acme-challenge'));
    assert.equal(challengePath?.backend.service?.name, 'kube-lego-gce');
    const afterRun = await networking.readNamespacedIngress({ namespace: s.app, name: 'gce-site' });
    assert.deepEqual(afterRun.spec, before.spec, 'the user’s Ingress is as it was');
    await assert.rejects(core.readNamespacedService({ namespace: s.app, name: 'kube-lego-gce' }), {
      code: 404,
    });
    await assertValidTlsSecret(await readSecret(s.app, 'gce-tls'), ['gce.example.com']);
  });
});

describe('plan and status', () => {
  test('plan prints every decision and changes nothing; status prints the table', async () => {
    const s = await scene('plan');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('planned', [
        { hosts: ['planned.example.com'], secretName: 'planned-tls' },
      ]),
    });
    const plan = await runJob(s.env(), ['plan']);
    assertExit(plan, 0);
    assert.match(plan.stdout, /planned-tls\s+planned\.example\.com\s+Issue\s+SecretMissing/);
    assert.equal(await readSecret(s.app, 'planned-tls'), undefined);
    await assert.rejects(
      core.readNamespacedConfigMap({ namespace: s.lego, name: 'kube-lego-status' }),
      { code: 404 },
    );

    assertExit(await runJob(s.env()), 0);
    const table = await runJob(s.env(), ['status']);
    assertExit(table, 0);
    assert.match(table.stdout, /planned-tls\s+planned\.example\.com\s+\S+\s+90d\s+Issued/);
    assert.match(table.stdout, /Last run: Succeeded/);
    // The run's directory, and no staging warning: Pebble's URL is not a staging one.
    assert.ok(
      table.stdout.includes(`ACME directory: ${testEnv().pebble.directoryUrl}\n`),
      table.stdout,
    );
    assert.doesNotMatch(table.stdout, /STAGING/);
  });

  test('a bad setting exits 2 and names the variable, the value and what is accepted', async () => {
    const result = await runJob({ LEGO_MINIMUM_VALIDITY: '30 days' });
    assertExit(result, 2);
    assert.match(
      result.stderr,
      /LEGO_MINIMUM_VALIDITY="30 days" is not valid: expected a duration in Go syntax/,
    );
    const help = await runJob({}, ['--help']);
    assertExit(help, 0);
    for (const variable of [
      'LEGO_EMAIL',
      'LEGO_URL',
      'LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL',
      'LEGO_POD_IP',
    ]) {
      assert.ok(help.stdout.includes(variable), `--help lists ${variable}`);
    }
    assert.ok(
      help.stdout.includes('acme-staging-v02.api.letsencrypt.org'),
      '--help shows the staging default',
    );
  });
});
