/**
 * Layer: unit and component (socket-free). The route preflight: probes (jobs/issue/route-preflight.ts)
 * with fakes of the challenge store and the self-check; issueCertificate with the preflight
 * wired in (no order when a host is unreachable); the probe mark in the challenge ConfigMap
 * format and the responder's answer; the failure class; the status record
 * (jobs/decide/preflight-status.ts), its metric, and check-routes' target and table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  CertificateAuthority,
  CertificateRequest,
  ChallengeHooks,
  CollectedOrder,
} from '../../jobs/acme/certificate-authority.js';
import { formatRouteChecks, parseRouteTarget } from '../../jobs/commands/check-routes-command.js';
import { classifyFailure } from '../../jobs/decide/failure-class.js';
import { preflightStatus, withPreflight } from '../../jobs/decide/preflight-status.js';
import { issueCertificate, type IssueDependencies } from '../../jobs/issue/issue-certificate.js';
import {
  buildProbes,
  preflightRoutes,
  probeRoutes,
  type RouteProbeDependencies,
} from '../../jobs/issue/route-preflight.js';
import type { SelfCheckResult } from '../../jobs/issue/self-check.js';
import { answerRequest } from '../../responder/answer.js';
import { certificateFamilies } from '../../responder/metrics.js';
import {
  decodeChallenges,
  encodeChallenge,
  isValidToken,
  type ChallengeEntry,
} from '../../shared/challenge-entries.js';
import { ConfigError, RouteUnreachableError, StoppedError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { DAY, NOW, at, certificate, desired, status } from './decide/fixtures.js';

const HOSTS = ['a.example', 'b.example'];
const logger = createLogger({ level: 'error', type: 'json', write: () => undefined });

/** A challenge store and a self-check that record what they are given. */
function probeSetup(
  seenFor: Record<string, string | undefined> = {},
  options: { removeError?: Error; abandon?: AbortSignal } = {},
) {
  const calls: string[] = [];
  const published: ChallengeEntry[] = [];
  const deps: RouteProbeDependencies = {
    challenges: {
      add: (entries) => {
        published.push(...entries);
        calls.push(`add ${entries.length}`);
        return Promise.resolve();
      },
      remove: (tokens) => {
        calls.push(`remove ${tokens.length}`);
        return options.removeError ? Promise.reject(options.removeError) : Promise.resolve();
      },
    },
    checkServed: (probes) => {
      calls.push(`check ${probes.map((p) => p.domain).join(',')}`);
      return Promise.resolve(
        probes.map((challenge): SelfCheckResult => {
          const seen = seenFor[challenge.domain];
          return seen === undefined
            ? { challenge, served: true }
            : // What the self-check reports names the URL, with the probe's token in it.
              { challenge, served: false, seen: seen.replace('TOKEN', challenge.token) };
        }),
      );
    },
    logger,
    ...(options.abandon ? { abandon: options.abandon } : {}),
  };
  return { deps, calls, published };
}

describe('probes', () => {
  test('one random probe per host, marked, of a valid token and key-authorization shape', () => {
    const probes = buildProbes(HOSTS);
    assert.deepEqual(
      probes.map((p) => p.domain),
      HOSTS,
    );
    for (const p of probes) {
      assert.equal(p.probe, true);
      assert.ok(isValidToken(p.token) && p.token.length === 43, p.token);
      assert.ok(p.keyAuthorization.startsWith(`${p.token}.`));
    }
    assert.notEqual(probes[0]?.token, probes[1]?.token);
    assert.notEqual(buildProbes(HOSTS)[0]?.token, probes[0]?.token, 'fresh every time');
  });

  test('the probe mark survives the ConfigMap format, and the responder serves a probe like any token', () => {
    const [probe] = buildProbes(['a.example']);
    assert.ok(probe);
    const acme = { token: 'acme-token', domain: 'b.example', keyAuthorization: 'acme-token.t' };
    const data = { [probe.token]: encodeChallenge(probe), [acme.token]: encodeChallenge(acme) };
    assert.match(data[probe.token] ?? '', /"probe":true/);
    assert.doesNotMatch(data[acme.token] ?? '', /probe/);
    const { entries, malformed } = decodeChallenges(data);
    assert.deepEqual(malformed, []);
    assert.deepEqual(
      entries.find((e) => e.token === probe.token),
      probe,
    );
    assert.equal(entries.find((e) => e.token === acme.token)?.probe, undefined);
    const lookup = { find: (t: string) => entries.find((e) => e.token === t) };
    const answer = answerRequest(
      { method: 'GET', url: `/.well-known/acme-challenge/${probe.token}`, host: 'a.example' },
      lookup,
      true,
    );
    assert.deepEqual([answer.status, answer.body], [200, probe.keyAuthorization]);
    const wrongHost = answerRequest(
      { method: 'GET', url: `/.well-known/acme-challenge/${probe.token}`, host: 'b.example' },
      lookup,
      true,
    );
    assert.equal(wrongHost.status, 404);
  });

  test('probeRoutes: publish, check, withdraw; results per host with what was seen, the token hidden', async () => {
    const { deps, calls, published } = probeSetup({
      'b.example': 'GET http://b.example/.well-known/acme-challenge/TOKEN: connect ECONNREFUSED',
    });
    const results = await probeRoutes(HOSTS, deps);
    assert.deepEqual(calls, ['add 2', 'check a.example,b.example', 'remove 2']);
    assert.ok(published.every((p) => p.probe));
    assert.deepEqual(results, [
      { host: 'a.example', reachable: true },
      {
        host: 'b.example',
        reachable: false,
        seen: 'GET http://b.example/.well-known/acme-challenge/<probe>: connect ECONNREFUSED',
      },
    ]);
  });

  test('probes are withdrawn when the check throws, and a failed withdrawal does not hide it', async () => {
    const { deps, calls } = probeSetup({}, { removeError: new Error('ConfigMap gone') });
    const failure = new Error('boom');
    deps.checkServed = () => Promise.reject(failure);
    await assert.rejects(probeRoutes(HOSTS, deps), failure);
    assert.deepEqual(calls, ['add 2', 'remove 2']);
  });

  test('a stop that abandoned the work meanwhile is a stop, not an unreachable route', async () => {
    const controller = new AbortController();
    const { deps, calls } = probeSetup({ 'a.example': 'aborted' }, { abandon: controller.signal });
    const inner = deps.checkServed;
    deps.checkServed = async (probes) => {
      controller.abort(new StoppedError('SIGTERM'));
      return inner(probes);
    };
    await assert.rejects(preflightRoutes(HOSTS, deps), StoppedError);
    assert.deepEqual(calls.at(-1), 'remove 2');
  });

  test('preflightRoutes throws RouteUnreachableError naming every unreachable host', async () => {
    const { deps } = probeSetup({ 'a.example': 'answered HTTP 404', 'b.example': 'refused' });
    const error = await preflightRoutes(HOSTS, deps).then(
      () => assert.fail('should throw'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RouteUnreachableError);
    assert.deepEqual(error.unreachable, [
      { host: 'a.example', seen: 'answered HTTP 404' },
      { host: 'b.example', seen: 'refused' },
    ]);
    assert.match(error.message, /a\.example \(answered HTTP 404\); b\.example \(refused\)/);
    assert.deepEqual(classifyFailure(error), {
      scope: 'certificate',
      reason: 'RouteUnreachable',
      message: error.message,
    });
  });
});

/** An authority that records whether an order was ever created. */
class RecordingAuthority implements CertificateAuthority {
  readonly directoryUrl = 'https://acme.test/directory';
  orders = 0;
  constructor(private readonly chain: string) {}
  async obtain(request: CertificateRequest, hooks: ChallengeHooks): Promise<string> {
    this.orders++;
    const challenges = request.hosts.map((domain) => ({
      token: `t-${domain.replace('.', '-')}`,
      domain,
      keyAuthorization: `t-${domain.replace('.', '-')}.x`,
    }));
    await hooks.present(challenges);
    await hooks.cleanup(challenges);
    return this.chain;
  }
  collect(): Promise<CollectedOrder> {
    return Promise.reject(new Error('no kept order in these tests'));
  }
}

describe('issueCertificate with the route preflight', () => {
  function issueSetup(seenFor: Record<string, string | undefined>) {
    const probe = probeSetup(seenFor);
    const authority = new RecordingAuthority(
      certificate({ key: 'rsa-a', dnsNames: HOSTS, notBefore: at(-DAY), notAfter: at(90 * DAY) }),
    );
    const calls = probe.calls;
    const deps: IssueDependencies = {
      authority,
      createCsr: () => Promise.resolve(Buffer.from('csr')),
      challenges: probe.deps.challenges,
      routes: {
        open: () => {
          calls.push('open routes');
          return Promise.resolve();
        },
        close: () => {
          calls.push('close routes');
          return Promise.resolve();
        },
      },
      secrets: {
        checkCertificateWrite: () => Promise.resolve(),
        storeCertificate: () => {
          calls.push('store');
          return Promise.resolve();
        },
      },
      waitUntilServed: () => {
        calls.push('self-check');
        return Promise.resolve();
      },
      preflight: async (c) => {
        await preflightRoutes(c.hosts, probe.deps);
      },
      keep: () => Promise.resolve(),
      removeKept: () => Promise.resolve(),
      keyPolicy: { keyType: 'ecdsa-p256', rsaKeySize: 2048 },
      logger,
      now: () => NOW,
    };
    return { deps, calls, authority, published: probe.published };
  }

  test('every host reachable: the probes come and go before the order, which proceeds as before', async () => {
    const { deps, calls, authority, published } = issueSetup({});
    await issueCertificate(desired(HOSTS), deps);
    assert.equal(authority.orders, 1);
    assert.deepEqual(calls, [
      'open routes',
      'add 2',
      'check a.example,b.example',
      'remove 2',
      'add 2',
      'self-check',
      'remove 2',
      'close routes',
      'store',
    ]);
    const probes = published.filter((p) => p.probe).map((p) => p.token);
    const orderTokens = published.filter((p) => !p.probe).map((p) => p.token);
    assert.equal(probes.length, 2);
    assert.deepEqual(orderTokens, ['t-a-example', 't-b-example']);
  });

  test('one host unreachable: no order, the routes closed, the probes withdrawn, the host named', async () => {
    const { deps, calls, authority } = issueSetup({ 'b.example': 'answered HTTP 502' });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), (error: unknown) => {
      assert.ok(error instanceof RouteUnreachableError);
      assert.match(error.message, /b\.example \(answered HTTP 502\)/);
      assert.doesNotMatch(error.message, /a\.example/);
      return true;
    });
    assert.equal(authority.orders, 0, 'no order');
    assert.deepEqual(calls, [
      'open routes',
      'add 2',
      'check a.example,b.example',
      'remove 2',
      'close routes',
    ]);
  });
});

describe('the last preflight in the status', () => {
  test('this run’s result wins, an earlier one is carried over, none stays none', () => {
    const reachable = preflightStatus([], NOW);
    assert.deepEqual(reachable, { checkedAt: NOW.toISOString(), result: 'Reachable' });
    const unreachable = preflightStatus([{ host: 'a.example', seen: 'refused' }], NOW);
    assert.deepEqual(unreachable.unreachable, [{ host: 'a.example', seen: 'refused' }]);
    assert.equal(unreachable.result, 'Unreachable');

    const earlier = { checkedAt: at(-DAY).toISOString(), result: 'Reachable' as const };
    const current = [
      status({ secretName: 'probed' }),
      status({ secretName: 'carried' }),
      status({ secretName: 'never' }),
    ];
    const previous = [
      status({ secretName: 'probed', preflight: earlier }),
      status({ secretName: 'carried', preflight: earlier }),
    ];
    const merged = withPreflight(current, previous, new Map([['shop.probed', unreachable]]));
    assert.deepEqual(
      merged.map((c) => [c.secretName, c.preflight]),
      [
        ['probed', unreachable],
        ['carried', earlier],
        ['never', undefined],
      ],
    );
  });

  test('the metric: 1 reachable, 0 unreachable, no sample before the first preflight', () => {
    const families = certificateFamilies(
      [
        status({ secretName: 'up', preflight: preflightStatus([], NOW) }),
        status({
          secretName: 'down',
          preflight: preflightStatus([{ host: 'a.example', seen: 'x' }], NOW),
        }),
        status({ secretName: 'unknown' }),
      ],
      undefined,
    );
    const family = families.find((f) => f.name === 'kube_lego_certificate_route_reachable');
    assert.deepEqual(
      family?.samples.map((s) => [s.labels?.secret, s.value]),
      [
        ['up', 1],
        ['down', 0],
      ],
    );
  });
});

describe('check-routes', () => {
  test('the target is <namespace>/<ingress>, or nothing', () => {
    assert.equal(parseRouteTarget(undefined), undefined);
    assert.deepEqual(parseRouteTarget('shop/web'), { namespace: 'shop', name: 'web' });
    for (const bad of ['shop', 'shop/', '/web', 'Shop/web', 'a/b/c'])
      assert.throws(() => parseRouteTarget(bad), ConfigError, bad);
  });

  test('the table: one row per host, the reason and what was seen', () => {
    const c = desired(HOSTS);
    const table = formatRouteChecks([
      { certificate: c, host: 'a.example', reachable: true, reason: '', seen: '' },
      {
        certificate: c,
        host: 'b.example',
        reachable: false,
        reason: 'RouteUnreachable',
        seen: 'answered HTTP 404',
      },
    ]);
    const lines = table.split('\n');
    assert.match(lines[0] ?? '', /^HOST\s+INGRESS\s+SECRET\s+RESULT\s+REASON\s+SEEN$/);
    assert.match(lines[1] ?? '', /^a\.example\s+shop\/web\s+shop\/web-tls\s+Reachable\s+-$/);
    assert.match(
      lines[2] ?? '',
      /^b\.example\s+shop\/web\s+shop\/web-tls\s+Unreachable\s+RouteUnreachable\s+answered HTTP 404$/,
    );
  });
});
