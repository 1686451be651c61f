/**
 * End to end, the route preflight (issue 14): the job as its own process against the real
 * kube-apiserver and Pebble. Before an order the job proves each host's challenge route with a
 * probe token of its own; a host whose route does not reach the responder costs no order.
 * `check-routes` does the same for every managed entry without ordering anything.
 *
 * Pebble's validator and the job both dial Pebble's httpPort on the address challtestsrv gives a
 * host (127.0.0.1 by default). There a recording front server passes every request on to the
 * responder process and notes its path and User-Agent, so the tests can tell the probes (the
 * job's) from Pebble's validation requests. A broken route is a host that challtestsrv resolves
 * to an address where nothing listens. (Through a real controller: test/jobs/traefik.e2e.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  CoordinationV1Api,
  CoreV1Api,
  NetworkingV1Api,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { decodeChallenges } from '../../shared/challenge-entries.js';
import { decodeStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, startJob, type JobResult } from '../support/job-process.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import { recordWatch } from '../support/watch-recorder.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);
const coordination = kc.makeApiClient(CoordinationV1Api);

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const PEBBLE_VA = 'LetsEncrypt-Pebble-VA';
const PROBE_AGENT = 'kube-lego-route-preflight';
/** Where challtestsrv sends a broken host: nothing listens on this loopback address. */
const NOWHERE = '127.0.0.5';
/** A host the front server answers with a redirect to HTTPS. */
const REDIRECTED = 'moved.check.example.com';

interface Seen {
  path: string;
  host: string;
  agent: string;
  status: number;
}

/** Requests that reached Pebble's HTTP-01 port, in order. */
const seen: Seen[] = [];
let front: Server;
let responder: ResponderProcess | undefined;
const brokenHosts: string[] = [];

before(async () => {
  front = createServer((incoming, outgoing) => {
    // A host whose controller redirects everything to HTTPS, as a user's redirect would.
    if ((incoming.headers.host ?? '').startsWith(`${REDIRECTED}:`)) {
      outgoing.writeHead(308, { location: `https://${REDIRECTED}${incoming.url ?? '/'}` }).end();
      return;
    }
    const target = responder;
    if (!target) {
      outgoing.writeHead(503).end('no responder\n');
      return;
    }
    const forwarded = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        seen.push({
          path: incoming.url ?? '',
          // The Host header names the port when it is not 80 (here Pebble's httpPort).
          host: (incoming.headers.host ?? '').replace(/:\d+$/, ''),
          agent: incoming.headers['user-agent'] ?? '',
          status: answer.statusCode ?? 0,
        });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.writeHead(502).end('responder unreachable\n'));
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) =>
    front.listen(testEnv().pebble.httpPort, '127.0.0.1', resolve),
  );
});

after(async () => {
  await responder?.stop();
  await new Promise<void>((resolve) =>
    front.close(() => {
      resolve();
    }),
  );
  for (const host of brokenHosts)
    await fetch(`${testEnv().challtestsrv.managementUrl}/clear-a`, {
      method: 'POST',
      body: JSON.stringify({ host }),
    });
});

/** Makes challtestsrv resolve `host` where nothing listens: its route never reaches anything. */
async function breakRoute(host: string): Promise<void> {
  const response = await fetch(`${testEnv().challtestsrv.managementUrl}/add-a`, {
    method: 'POST',
    body: JSON.stringify({ host, addresses: [NOWHERE] }),
  });
  assert.equal(response.status, 200);
  brokenHosts.push(host);
}

interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
}

/** Fresh namespaces and a responder watching the job's one. */
async function scene(name: string): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  await responder?.stop();
  responder = await startResponderProcess({ namespace: lego });
  return { lego, app, env: (extra = {}) => jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, ...extra }) };
}

/** Test hooks on: the job runs at a simulated time (jobs/test-clock.ts). */
function at(offset: string): Record<string, string> {
  return { KUBE_LEGO_TEST_HOOKS: 'enabled', KUBE_LEGO_TEST_CLOCK_OFFSET: offset };
}

function logged(result: JobResult, msg: string): Record<string, unknown>[] {
  return result.logs.filter((l) => l.msg === msg);
}

async function statusOf(lego: string) {
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  return decodeStatus(cm.data);
}

async function challengeTokens(lego: string): Promise<string[]> {
  const cm = await core
    .readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-challenges' })
    .catch(() => undefined);
  return Object.keys(cm?.data ?? {});
}

/** The routing objects a run or check-routes writes are gone. */
async function assertNoRoutingObjects(lego: string): Promise<void> {
  await assert.rejects(
    networking.readNamespacedIngress({ namespace: lego, name: 'kube-lego-nginx' }),
    { code: 404 },
    'no challenge Ingress left',
  );
  await assert.rejects(
    core.readNamespacedService({ namespace: lego, name: 'kube-lego-nginx' }),
    { code: 404 },
    'no responder Service left',
  );
}

/** A plain GET of a challenge path for `host` on Pebble's HTTP-01 port, as a validator sends it. */
async function getChallenge(host: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: testEnv().pebble.httpPort,
        path: `${CHALLENGE_PREFIX}${token}`,
        headers: { host, 'user-agent': 'test-client' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs `job` while watching the challenge ConfigMap; returns its result and every version of the
 * ConfigMap the API server reported. A marker ConfigMap written afterwards into the same
 * collection ends the recording: once its event arrives, every earlier change has.
 */
async function recordingChallenges(
  lego: string,
  job: () => Promise<JobResult>,
): Promise<{ result: JobResult; events: { object: V1ConfigMap }[] }> {
  const watch = await recordWatch<V1ConfigMap>(`/api/v1/namespaces/${lego}/configmaps`);
  try {
    const result = await job();
    const marker = `marker-${Math.random().toString(36).slice(2, 8)}`;
    await core.createNamespacedConfigMap({ namespace: lego, body: { metadata: { name: marker } } });
    await watch.until((e) => e.object.metadata?.name === marker);
    return {
      result,
      events: watch.events.filter((e) => e.object.metadata?.name === 'kube-lego-challenges'),
    };
  } finally {
    watch.stop();
  }
}

describe('a route that does not reach the responder costs no order', () => {
  test('RouteUnreachable, no ACME request; two more runs (backing off, then trying again) order nothing either', async () => {
    const host = 'nowhere.preflight.example.com';
    const s = await scene('unreach');
    await breakRoute(host);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('nowhere', [{ hosts: [host], secretName: 'nowhere-tls' }]),
    });

    const first = await runJob(s.env(at('0h')));
    assertExit(first, 0);
    const failure = logged(first, 'certificate could not be obtained')[0];
    assert.equal(failure?.reason, 'RouteUnreachable', JSON.stringify(failure));
    assert.match(String(failure.error), new RegExp(`${host.replaceAll('.', '\\.')} \\(GET http`));
    assert.match(String(failure.error), /ECONNREFUSED/, 'says what was seen: connection refused');
    assert.match(String(failure.error), /acme-challenge\/<probe>/, 'the probe token is not shown');
    assert.equal(first.summary?.acmeRequests, 0, 'no order, not even an account request');
    let recorded = (await statusOf(s.lego)).certificates.find(
      (c) => c.secretName === 'nowhere-tls',
    );
    assert.equal(recorded?.reason, 'RouteUnreachable');
    assert.equal(recorded.failures, 1);
    assert.equal(recorded.preflight?.result, 'Unreachable');
    assert.deepEqual(
      recorded.preflight.unreachable?.map((u) => u.host),
      [host],
    );
    assert.deepEqual(await challengeTokens(s.lego), [], 'the probe was withdrawn');
    await assertNoRoutingObjects(s.lego);

    const backingOff = await runJob(s.env(at('30m')));
    assertExit(backingOff, 0);
    assert.equal(backingOff.summary?.acmeRequests, 0);
    assert.equal(logged(backingOff, 'issuing certificate').length, 0, 'not even a preflight');
    recorded = (await statusOf(s.lego)).certificates.find((c) => c.secretName === 'nowhere-tls');
    assert.equal(recorded?.result, 'BackingOff');
    assert.equal(recorded.preflight?.result, 'Unreachable', 'the last preflight is kept');

    const again = await runJob(s.env(at('61m')));
    assertExit(again, 0);
    assert.equal(logged(again, 'certificate could not be obtained')[0]?.reason, 'RouteUnreachable');
    assert.equal(again.summary?.acmeRequests, 0);
    recorded = (await statusOf(s.lego)).certificates.find((c) => c.secretName === 'nowhere-tls');
    assert.equal(recorded?.failures, 2, 'backs off like any failure of the certificate');
    assert.equal(await readSecret(s.lego, 'kube-lego-account'), undefined, 'no ACME account');
  });

  test('two hosts in one entry, one reachable: no order, the reason names the unreachable host only', async () => {
    const good = 'good.pair.example.com';
    const bad = 'bad.pair.example.com';
    const s = await scene('pair');
    await breakRoute(bad);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('pair', [{ hosts: [good, bad], secretName: 'pair-tls' }]),
    });
    const result = await runJob(s.env());
    assertExit(result, 0);
    const failure = logged(result, 'certificate could not be obtained')[0];
    assert.equal(failure?.reason, 'RouteUnreachable', JSON.stringify(failure));
    assert.ok(String(failure.error).includes(bad), String(failure.error));
    assert.ok(!String(failure.error).includes(good), 'the reachable host is not blamed');
    assert.equal(result.summary?.acmeRequests, 0);
    // The reachable host's probe did go through to the responder, and was answered.
    const probes = seen.filter((r) => r.host === good && r.agent === PROBE_AGENT);
    assert.ok(
      probes.some((r) => r.status === 200),
      JSON.stringify(probes),
    );
    const events = await core.listNamespacedEvent({ namespace: s.app });
    const event = events.items.find((e) => e.reason === 'IssuanceFailed');
    assert.match(event?.message ?? '', /RouteUnreachable|does not reach the responder/);
  });
});

describe('the probe is the job’s own', () => {
  test('a successful issue: probes marked in the ConfigMap, fetched only by the job, never by Pebble, 404 once withdrawn', async () => {
    const host = 'probe.preflight.example.com';
    const s = await scene('probe');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('probe', [{ hosts: [host], secretName: 'probe-tls' }]),
    });
    const { result, events } = await recordingChallenges(s.lego, () => runJob(s.env()));
    assertExit(result, 0);
    await assertValidTlsSecret(await readSecret(s.app, 'probe-tls'), [host]);

    const probeTokens = new Set<string>();
    const acmeTokens = new Set<string>();
    for (const event of events) {
      for (const entry of decodeChallenges(event.object.data).entries)
        (entry.probe ? probeTokens : acmeTokens).add(entry.token);
    }
    assert.equal(probeTokens.size, 1, 'one probe for one host, marked as a probe');
    assert.ok(acmeTokens.size >= 1, 'the order’s own token, not marked');
    const [probe] = [...probeTokens];
    assert.ok(probe);
    const forProbe = seen.filter((r) => r.path === `${CHALLENGE_PREFIX}${probe}`);
    assert.ok(
      forProbe.some((r) => r.status === 200),
      'the responder served the probe',
    );
    assert.deepEqual([...new Set(forProbe.map((r) => r.agent))], [PROBE_AGENT], 'only the job');
    const validations = seen.filter((r) => r.host === host && r.agent.startsWith(PEBBLE_VA));
    assert.ok(validations.length > 0, 'Pebble validated through the same port');
    for (const v of validations) {
      const token = v.path.slice(CHALLENGE_PREFIX.length);
      assert.ok(acmeTokens.has(token), `Pebble asked for an order token, ${token}`);
      assert.ok(!probeTokens.has(token), 'never for the probe');
    }
    assert.equal(await getChallenge(host, probe), 404, 'the probe is not served after cleanup');

    const recorded = (await statusOf(s.lego)).certificates.find(
      (c) => c.secretName === 'probe-tls',
    );
    assert.equal(recorded?.preflight?.result, 'Reachable');
    const table = await runJob(s.env(), ['status']);
    assertExit(table, 0);
    assert.match(table.stdout, /ROUTES/);
    assert.match(table.stdout, /probe-tls\s+probe\.preflight\.example\.com\s.*Issued.*Reachable\s/);
    // The wide table and the one-certificate view say when.
    const wide = await runJob(s.env(), ['status', '-o', 'wide']);
    assert.match(wide.stdout, /probe-tls\s.*Reachable at \d{4}-/);
    const one = await runJob(s.env(), ['status', `${s.app}/probe-tls`]);
    assertExit(one, 0);
    assert.match(one.stdout, /Route preflight:\s+Reachable at \d{4}-/);
  });
});

describe('check-routes', () => {
  test('three Ingresses, one broken: two reachable, one not with its reason; no order, nothing left behind', async (t) => {
    const s = await scene('check');
    const hosts = ['one.check.example.com', 'two.check.example.com', 'three.check.example.com'];
    await breakRoute(hosts[2]!);
    for (const [i, host] of hosts.entries())
      await networking.createNamespacedIngress({
        namespace: s.app,
        body: annotatedIngress(`site-${i}`, [{ hosts: [host], secretName: `site-${i}-tls` }]),
      });
    const { result, events } = await recordingChallenges(s.lego, () =>
      runJob(s.env(), ['check-routes']),
    );
    assertExit(result, 1);
    t.diagnostic(`check-routes table:\n${result.stdout}`);
    const rows = result.stdout.trim().split('\n');
    assert.match(rows[0] ?? '', /^HOST\s+INGRESS\s+SECRET\s+RESULT\s+REASON\s+SEEN$/);
    const row = (host: string) => rows.find((r) => r.startsWith(`${host} `)) ?? '';
    assert.match(row(hosts[0]!), /Reachable\s+-$/);
    assert.match(row(hosts[1]!), /Reachable\s+-$/);
    assert.match(
      row(hosts[2]!),
      /Unreachable\s+RouteUnreachable\s+GET http:\/\/three\.check\.example\.com:\d+\/\.well-known\/acme-challenge\/<probe>: connect ECONNREFUSED/,
    );
    assert.equal(rows.length, 4);

    const summary = logged(result, 'routes checked')[0];
    assert.deepEqual(
      [summary?.hosts, summary?.reachable, summary?.unreachable, summary?.acmeRequests],
      [3, 2, 1, 0],
    );
    assert.equal(result.summary, undefined, 'no run: nothing ordered, no status written');
    // The probes went through the ConfigMap, marked, and none is left.
    const probed = events.flatMap((e) => decodeChallenges(e.object.data).entries);
    assert.ok(probed.length >= 3 && probed.every((p) => p.probe), 'only probes were published');
    assert.deepEqual(await challengeTokens(s.lego), []);
    await assertNoRoutingObjects(s.lego);
    await assert.rejects(
      core.readNamespacedConfigMap({ namespace: s.lego, name: 'kube-lego-status' }),
      { code: 404 },
    );
    for (const i of [0, 1, 2]) assert.equal(await readSecret(s.app, `site-${i}-tls`), undefined);
    const lease = await coordination.readNamespacedLease({ namespace: s.lego, name: 'kube-lego' });
    assert.equal(lease.spec?.holderIdentity, undefined, 'the Lease was taken and released');

    // One Ingress: only its hosts, and all reachable → 0.
    const one = await runJob(s.env(), ['check-routes', `${s.app}/site-1`]);
    assertExit(one, 0);
    const oneRows = one.stdout.trim().split('\n');
    assert.equal(oneRows.length, 2, one.stdout);
    assert.match(
      oneRows[1] ?? '',
      new RegExp(`^${hosts[1]!.replaceAll('.', '\\.')}\\s+${s.app}/site-1\\s.*Reachable`),
    );

    // A malformed target is a clear error; an unknown Ingress is no success.
    const bad = await runJob(s.env(), ['check-routes', 'not-a-target']);
    assertExit(bad, 2);
    assert.match(
      bad.stderr,
      /check-routes target="not-a-target" is not valid: expected <namespace>\/<ingress>/,
    );
    assertExit(await runJob(s.env(), ['check-routes', `${s.app}/missing`]), 1);
  });

  test('a host redirected to HTTPS: unreachable, the table names the redirect target', async () => {
    const s = await scene('checkmoved');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('moved', [{ hosts: [REDIRECTED], secretName: 'moved-tls' }]),
    });
    const result = await runJob(s.env(), ['check-routes', `${s.app}/moved`]);
    assertExit(result, 1);
    const row = result.stdout.split('\n').find((r) => r.startsWith(`${REDIRECTED} `)) ?? '';
    assert.match(
      row,
      /Unreachable\s+RouteUnreachable\s+GET http:\/\/moved\.check\.example\.com:\d+\/\.well-known\/acme-challenge\/<probe> answered HTTP 308, redirecting to https:\/\/moved\.check\.example\.com\/\.well-known\/acme-challenge\/<probe>,/,
    );
    assert.equal(logged(result, 'routes checked')[0]?.acmeRequests, 0);
    assert.deepEqual(await challengeTokens(s.lego), []);
    await assertNoRoutingObjects(s.lego);
  });

  test('while a run holds the Lease, check-routes writes nothing and does not report success', async () => {
    const s = await scene('checklease');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('busy', [
        { hosts: ['busy.check.example.com'], secretName: 'busy-tls' },
      ]),
    });
    await breakRoute('busy.check.example.com');
    // A run busy with its preflight (the route never answers): it holds the Lease meanwhile.
    const run = startJob(
      s.env({ LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '600s', LEGO_STOP_GRACE_PERIOD: '1s' }),
    );
    await run.waitForLog((l) => l.msg === 'challenge not served yet' && l.probe === true);
    const result = await runJob(s.env(), ['check-routes']);
    run.kill('SIGTERM');
    const stopped = await run.result;
    assertExit(result, 1);
    assert.equal(
      logged(result, 'another run is working; routes not checked, try again later').length,
      1,
    );
    assert.equal(result.stdout, '', 'no table');
    assertExit(stopped, 3);
    assert.equal(stopped.summary?.acmeRequests, 0, 'the stopped run ordered nothing');
    const recorded = (await statusOf(s.lego)).certificates.find((c) => c.secretName === 'busy-tls');
    assert.equal(
      recorded?.reason,
      'Stopped',
      'a stop during the preflight is not RouteUnreachable',
    );
    assert.equal(recorded.failures, 0);
    await assertNoRoutingObjects(s.lego);
  });
});
