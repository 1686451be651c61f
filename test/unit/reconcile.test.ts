/**
 * Layer: component (socket-free). Component tests of the act step (jobs/run/reconcile.ts) and of gather-and-decide
 * (jobs/run/snapshot.ts): the real decide functions, small in-memory fakes of the ports, a fixed
 * clock and certificates made in the test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideAction } from '../../jobs/decide/action.js';
import type { IssuedCertificate } from '../../jobs/issue/issue-certificate.js';
import { secretKey } from '../../jobs/kube/secret-store.js';
import type { RecordedStatus } from '../../jobs/kube/status-store.js';
import type {
  DesiredCertificate,
  EventType,
  IngressView,
  Requester,
  SecretView,
} from '../../jobs/model.js';
import { reconcile, type ActPorts, type RunReport } from '../../jobs/run/reconcile.js';
import {
  gatherAndDecide,
  type DecisionSettings,
  type GatherPorts,
  type RunPlan,
} from '../../jobs/run/snapshot.js';
import {
  AcmeError,
  AcmeUnavailableError,
  KubeApiError,
  KubeLegoError,
  StoppedError,
} from '../../shared/errors.js';
import { createLogger, silentLogger, type Logger } from '../../shared/logger.js';
import {
  encodeStatus,
  statusKey,
  type CertificateStatus,
  type PendingRequest,
} from '../../shared/status-entries.js';
import { DAY, HOUR, MINUTE, NOW, at, secret, status, tlsSecret } from './decide/fixtures.js';

const DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';
const STARTED_AT = at(-MINUTE);

const SETTINGS: DecisionSettings = {
  kubeAnnotation: 'kubernetes.io/tls-acme',
  defaultIngressClass: 'nginx',
  supportedIngressClass: ['nginx', 'gce'],
  defaultIngressProvider: '',
  supportedIngressProvider: ['ingress', 'gce'],
  supportedGatewayClass: [],
  namespace: 'kube-lego',
  gatewayHttpPort: 80,
  ipCertificates: 'auto',
  acmeProfile: '',
  directoryUrl: DIRECTORY,
  keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
  minimumValidityMs: 720 * HOUR,
};

// ---------------------------------------------------------------------------------------------
// Fakes of the ports.

/** The cluster as the gather step reads it. Records which single Secrets were asked for. */
class FakeCluster implements GatherPorts {
  readonly getSecretCalls: string[] = [];
  constructor(
    readonly ingresses: IngressView[],
    /** Every Secret, whatever its type; the TLS list holds only `kubernetes.io/tls` ones. */
    readonly secrets: SecretView[] = [],
    readonly previous: CertificateStatus[] = [],
  ) {}

  listIngresses(): Promise<IngressView[]> {
    return Promise.resolve(this.ingresses);
  }

  listTlsSecrets(): Promise<Map<string, SecretView>> {
    return Promise.resolve(
      new Map(
        this.secrets
          .filter((s) => s.type === 'kubernetes.io/tls')
          .map((s) => [secretKey(s.namespace, s.name), s]),
      ),
    );
  }

  getSecret(namespace: string, name: string): Promise<SecretView | undefined> {
    this.getSecretCalls.push(secretKey(namespace, name));
    return Promise.resolve(this.secrets.find((s) => s.namespace === namespace && s.name === name));
  }

  /** The operator's pending requests in the status ConfigMap. */
  requests: PendingRequest[] = [];

  readStatus(): Promise<RecordedStatus> {
    return Promise.resolve({
      certificates: this.previous,
      run: undefined,
      requests: this.requests,
      malformed: [],
    });
  }
}

interface RecordedEvent {
  ingress: string;
  type: EventType;
  reason: string;
  message: string;
}

/** The act step's ports, in memory. */
class FakeActPorts implements ActPorts {
  /** `namespace/secretName` of each certificate ordered, in order. */
  readonly issued: string[] = [];
  readonly events: RecordedEvent[] = [];
  readonly writes: { certificates: CertificateStatus[]; run: RunReport['run'] }[] = [];
  /** What `issue` returns or throws, by `namespace/secretName`; a fresh certificate otherwise. */
  readonly outcomes = new Map<string, IssuedCertificate | Error>();
  /** How many orders may start before the Lease is lost; unlimited when undefined. */
  leaseLostAfter: number | undefined;
  eventError: Error | undefined;
  statusError: Error | undefined;

  issue(certificate: DesiredCertificate, _logger: Logger): Promise<IssuedCertificate> {
    const key = secretKey(certificate.namespace, certificate.secretName);
    this.issued.push(key);
    const outcome = this.outcomes.get(key) ?? {
      notBefore: at(0),
      notAfter: at(90 * DAY),
      serialNumber: '0a1b',
      directoryUrl: DIRECTORY,
    };
    return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  }

  recordEvent(target: Requester, type: EventType, reason: string, message: string): Promise<void> {
    if (this.eventError) return Promise.reject(this.eventError);
    assert.equal(target.kind, 'Ingress', 'the Event names the kind of the requester');
    assert.equal(target.uid, `uid-${target.name}`, 'the Event names the Ingress by its uid');
    this.events.push({ ingress: `${target.namespace}/${target.name}`, type, reason, message });
    return Promise.resolve();
  }

  writeStatus(certificates: CertificateStatus[], run: RunReport['run']): Promise<void> {
    this.writes.push({ certificates, run });
    return this.statusError ? Promise.reject(this.statusError) : Promise.resolve();
  }

  mayContinue(): boolean {
    return this.leaseLostAfter === undefined || this.issued.length < this.leaseLostAfter;
  }

  /** The signal that stops the run, once this many orders have started. */
  stopAfter: { orders: number; signal: string } | undefined;

  /** What the kept entries offer, by `<namespace>/<secret>`; none by default. */
  readonly kept = new Map<string, 'install' | 'download'>();

  keptUse(certificate: DesiredCertificate): 'install' | 'download' | undefined {
    return this.kept.get(`${certificate.namespace}/${certificate.secretName}`);
  }

  /** Keys of the requests removed, in order. */
  readonly clearedRequests: string[] = [];
  /** Makes every clearRequest fail (the key changed meanwhile, an API error). */
  clearError: Error | undefined;

  clearRequest(request: PendingRequest): Promise<void> {
    if (this.clearError) return Promise.reject(this.clearError);
    this.clearedRequests.push(request.key);
    return Promise.resolve();
  }

  stopRequested(): string | undefined {
    if (this.stopAfter && this.issued.length >= this.stopAfter.orders) return this.stopAfter.signal;
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Builders.

function ingress(
  name: string,
  tls: { hosts?: unknown; secretName?: unknown }[],
  overrides: Partial<IngressView> = {},
): IngressView {
  return {
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    annotations: { 'kubernetes.io/tls-acme': 'true' },
    ingressClassName: undefined,
    tls,
    ...overrides,
  };
}

/** A certificate for `hosts`, valid from 10 days ago for 90 days: nothing to do. */
function validSecret(name: string, hosts: string[]): SecretView {
  return tlsSecret(
    { key: 'rsa-a', dnsNames: hosts, notBefore: at(-10 * DAY), notAfter: at(80 * DAY) },
    { name },
  );
}

/** A certificate for `hosts` with 10 days left: due for renewal. */
function dueSecret(name: string, hosts: string[]): SecretView {
  return tlsSecret(
    { key: 'rsa-a', dnsNames: hosts, notBefore: at(-80 * DAY), notAfter: at(10 * DAY) },
    { name },
  );
}

/** Gathers and decides with the real code over a fake cluster. */
function plan(cluster: FakeCluster): Promise<RunPlan> {
  return gatherAndDecide(cluster, SETTINGS, NOW);
}

/** Runs reconcile with a fixed clock; checks the status was written once, as returned. */
async function act(
  runPlan: RunPlan,
  ports: FakeActPorts,
  logger: Logger = silentLogger,
): Promise<RunReport> {
  const report = await reconcile(runPlan, ports, logger, () => NOW, STARTED_AT);
  assert.equal(ports.writes.length, 1, 'writeStatus is called exactly once');
  assert.deepEqual(ports.writes[0], { certificates: report.certificates, run: report.run });
  return report;
}

function entry(report: RunReport, namespace: string, secretName: string): CertificateStatus {
  const found = report.certificates.filter(
    (c) => statusKey(c.namespace, c.secretName) === statusKey(namespace, secretName),
  );
  assert.equal(found.length, 1, `one status entry for ${namespace}/${secretName}`);
  return found[0]!;
}

function counts(report: RunReport) {
  const { result, entries, issued, renewed, valid, skipped, failed } = report.run;
  return { result, entries, issued, renewed, valid, skipped, failed };
}

function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    type: 'json',
    now: () => NOW,
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

// ---------------------------------------------------------------------------------------------

describe('reconcile: a failing certificate', () => {
  const A_HOSTS = ['a.example', 'www.a.example'];
  const cluster = () =>
    new FakeCluster([
      ingress('a', [{ hosts: ['www.a.example', 'a.example'], secretName: 'a-tls' }]),
      ingress('a-canary', [{ hosts: A_HOSTS, secretName: 'a-tls' }]),
      ingress('b', [{ hosts: ['b.example'], secretName: 'b-tls' }]),
    ]);

  test('does not stop the next one; the run itself succeeds and counts both', async () => {
    const ports = new FakeActPorts();
    ports.outcomes.set(
      'shop/a-tls',
      new AcmeError('too many certificates already issued', RATE_LIMITED, at(3 * HOUR)),
    );
    const report = await act(await plan(cluster()), ports);

    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/b-tls']);
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 2,
      issued: 1,
      renewed: 0,
      valid: 0,
      skipped: 0,
      failed: 1,
    });
    assert.equal(report.run.startedAt, STARTED_AT.toISOString());
    assert.equal(report.run.finishedAt, NOW.toISOString());
    assert.equal(entry(report, 'shop', 'b-tls').result, 'Issued');
  });

  test("its status: one failure, the server's Retry-After (later than 1h), AcmeRateLimited", async () => {
    const ports = new FakeActPorts();
    ports.outcomes.set(
      'shop/a-tls',
      new AcmeError('too many certificates already issued', RATE_LIMITED, at(3 * HOUR)),
    );
    const report = await act(await plan(cluster()), ports);
    assert.deepEqual(entry(report, 'shop', 'a-tls'), {
      namespace: 'shop',
      secretName: 'a-tls',
      ingresses: ['shop/a', 'shop/a-canary'],
      hosts: A_HOSTS,
      notAfter: null,
      result: 'Failed',
      reason: 'AcmeRateLimited',
      message: 'too many certificates already issued',
      checkedAt: NOW.toISOString(),
      failures: 1,
      lastFailureAt: NOW.toISOString(),
      retryAfter: at(3 * HOUR).toISOString(),
      failedHosts: A_HOSTS,
      lastFailureReason: 'AcmeRateLimited',
      lastFailureMessage: 'too many certificates already issued',
      history: [
        {
          at: NOW.toISOString(),
          result: 'Failed',
          reason: 'AcmeRateLimited',
          message: 'too many certificates already issued',
          directoryUrl: DIRECTORY,
        },
      ],
    });
  });

  test('a Retry-After sooner than the 1h back-off does not shorten it', async () => {
    const ports = new FakeActPorts();
    ports.outcomes.set('shop/a-tls', new AcmeError('slow down', RATE_LIMITED, at(10 * MINUTE)));
    const report = await act(await plan(cluster()), ports);
    assert.equal(entry(report, 'shop', 'a-tls').retryAfter, at(HOUR).toISOString());
  });

  test('a Warning IssuanceFailed Event on each Ingress of the certificate, Normal Issued on success', async () => {
    const ports = new FakeActPorts();
    ports.outcomes.set(
      'shop/a-tls',
      new AcmeError('too many certificates already issued', RATE_LIMITED, at(3 * HOUR)),
    );
    await act(await plan(cluster()), ports);
    const failed = `too many certificates already issued Next attempt not before ${at(3 * HOUR).toISOString()}.`;
    assert.deepEqual(ports.events, [
      { ingress: 'shop/a', type: 'Warning', reason: 'IssuanceFailed', message: failed },
      { ingress: 'shop/a-canary', type: 'Warning', reason: 'IssuanceFailed', message: failed },
      {
        ingress: 'shop/b',
        type: 'Normal',
        reason: 'Issued',
        message: `Certificate for b.example stored in Secret b-tls, valid until ${at(90 * DAY).toISOString()} (SecretMissing: The Secret does not exist yet.)`,
      },
    ]);
  });

  test('consecutive failures for the same hosts are counted and back off longer', async () => {
    const previous = status({
      secretName: 'a-tls',
      hosts: A_HOSTS,
      failures: 2,
      lastFailureAt: at(-5 * HOUR).toISOString(),
      retryAfter: at(-3 * HOUR).toISOString(),
      failedHosts: A_HOSTS,
    });
    const c = cluster();
    const ports = new FakeActPorts();
    ports.outcomes.set('shop/a-tls', new AcmeError('connection refused', undefined, undefined));
    const report = await act(await plan(new FakeCluster(c.ingresses, [], [previous])), ports);
    const failed = entry(report, 'shop', 'a-tls');
    assert.equal(failed.failures, 3);
    assert.equal(failed.reason, 'AcmeError');
    assert.equal(failed.retryAfter, at(4 * HOUR).toISOString());
  });

  test('the failure reason says what failed: ACME problem type, our error class, or unexpected', async () => {
    const rows: [Error, string, RegExp][] = [
      [
        new AcmeError('bad CSR', 'urn:ietf:params:acme:error:badCSR', undefined),
        'AcmeBadCSR',
        /^bad CSR$/,
      ],
      [
        new AcmeError('no problem document', undefined, undefined),
        'AcmeError',
        /no problem document/,
      ],
      [
        new KubeApiError('write Secret', 403, 'Forbidden', 'secrets is forbidden'),
        'KubeApi',
        /write Secret: HTTP 403 Forbidden: secrets is forbidden/,
      ],
      [
        new KubeLegoError('wrapped', { cause: new Error('root cause') }),
        'KubeLego',
        /wrapped: root cause/,
      ],
      [new TypeError('x is undefined'), 'UnexpectedError', /x is undefined/],
    ];
    for (const [error, reason, message] of rows) {
      const ports = new FakeActPorts();
      ports.outcomes.set('shop/b-tls', error);
      const report = await act(
        await plan(
          new FakeCluster([ingress('b', [{ hosts: ['b.example'], secretName: 'b-tls' }])]),
        ),
        ports,
      );
      const failed = entry(report, 'shop', 'b-tls');
      assert.equal(failed.reason, reason, error.message);
      assert.match(failed.message, message);
      assert.equal(report.run.result, 'Succeeded');
    }
  });
});

describe('reconcile: successes', () => {
  test('a renewal: Normal Renewed Event, renewed count, new notAfter, failure memory cleared', async () => {
    const hosts = ['shop.example'];
    const previous = status({
      hosts,
      failures: 1,
      lastFailureAt: at(-2 * HOUR).toISOString(),
      retryAfter: at(-HOUR).toISOString(),
      failedHosts: hosts,
    });
    const ports = new FakeActPorts();
    ports.outcomes.set('shop/web-tls', {
      notBefore: at(-HOUR),
      notAfter: at(90 * DAY),
      serialNumber: 'ff',
      directoryUrl: DIRECTORY,
    });
    const report = await act(
      await plan(
        new FakeCluster(
          [ingress('web', [{ hosts, secretName: 'web-tls' }])],
          [dueSecret('web-tls', hosts)],
          [previous],
        ),
      ),
      ports,
    );
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 1,
      issued: 0,
      renewed: 1,
      valid: 0,
      skipped: 0,
      failed: 0,
    });
    assert.deepEqual(
      ports.events.map((e) => [e.ingress, e.type, e.reason]),
      [['shop/web', 'Normal', 'Renewed']],
    );
    assert.match(ports.events[0]!.message, /\(RenewalDue: The certificate expires at/);
    const renewed = entry(report, 'shop', 'web-tls');
    assert.equal(renewed.result, 'Renewed');
    assert.equal(renewed.reason, 'RenewalDue');
    assert.equal(renewed.notAfter, at(90 * DAY).toISOString());
    assert.equal(renewed.notBefore, at(-HOUR).toISOString());
    // When the next run will renew it: a third of its lifetime before notAfter (> 720h here).
    assert.equal(renewed.renewalAt, at(90 * DAY - (90 * DAY + HOUR) / 3).toISOString());
    assert.equal(renewed.directoryUrl, DIRECTORY);
    assert.equal(report.run.directoryUrl, DIRECTORY);
    assert.equal(report.run.lastSuccessAt, report.run.finishedAt);
    assert.equal(renewed.failures, 0);
    assert.ok(
      !('retryAfter' in renewed) && !('lastFailureAt' in renewed) && !('failedHosts' in renewed),
    );
  });

  test('a valid certificate: no order, no Event, its notAfter, failure memory cleared', async () => {
    const hosts = ['shop.example'];
    const previous = status({
      hosts,
      failures: 3,
      lastFailureAt: at(-DAY).toISOString(),
      retryAfter: at(HOUR).toISOString(),
      failedHosts: hosts,
    });
    const ports = new FakeActPorts();
    const report = await act(
      await plan(
        new FakeCluster(
          [ingress('web', [{ hosts, secretName: 'web-tls' }])],
          [validSecret('web-tls', hosts)],
          [previous],
        ),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, []);
    assert.deepEqual(ports.events, []);
    assert.equal(report.run.valid, 1);
    assert.equal(report.run.result, 'Succeeded');
    const valid = entry(report, 'shop', 'web-tls');
    assert.equal(valid.result, 'Valid');
    assert.equal(valid.reason, 'UpToDate');
    assert.equal(valid.notAfter, at(80 * DAY).toISOString());
    assert.equal(valid.failures, 0);
    assert.equal(valid.retryAfter, undefined);
  });

  test('run summary over a mix: valid, issued, renewed and skipped; Succeeded', async () => {
    const ports = new FakeActPorts();
    const report = await act(
      await plan(
        new FakeCluster(
          [
            ingress('new', [{ hosts: ['new.example'], secretName: 'new-tls' }]),
            ingress('old', [{ hosts: ['old.example'], secretName: 'old-tls' }]),
            ingress('ok', [{ hosts: ['ok.example'], secretName: 'ok-tls' }]),
            ingress('other', [{ hosts: ['t.example'], secretName: 't-tls' }], {
              ingressClassName: 'traefik',
            }),
            ingress('notls', []),
            ingress('unannotated', [{ hosts: ['u.example'], secretName: 'u-tls' }], {
              annotations: {},
            }),
          ],
          [dueSecret('old-tls', ['old.example']), validSecret('ok-tls', ['ok.example'])],
        ),
      ),
      ports,
    );
    // The renewal first (jobs/decide/order-urgency.ts), then the first issuance.
    assert.deepEqual(ports.issued, ['shop/old-tls', 'shop/new-tls']);
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 3,
      issued: 1,
      renewed: 1,
      valid: 1,
      skipped: 2,
      failed: 0,
    });
    assert.deepEqual(
      report.certificates.map((c) => [c.secretName, c.result]),
      [
        ['new-tls', 'Issued'],
        ['ok-tls', 'Valid'],
        ['old-tls', 'Renewed'],
      ],
    );
  });

  test('an empty plan succeeds and still writes the status', async () => {
    const ports = new FakeActPorts();
    const report = await act(await plan(new FakeCluster([])), ports);
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 0,
      issued: 0,
      renewed: 0,
      valid: 0,
      skipped: 0,
      failed: 0,
    });
    assert.deepEqual(report.certificates, []);
  });
});

describe('reconcile: entries that are not ordered', () => {
  test('invalid entries: a Warning Event with their reason each, counted as failed', async () => {
    const ports = new FakeActPorts();
    const report = await act(
      await plan(
        new FakeCluster([
          ingress('bad', [
            { hosts: ['*.example.com'], secretName: 'wild-tls' },
            { hosts: ['x.example'] },
            { hosts: ['y.example'], secretName: 'Not_A_Name' },
            { hosts: ['z.example'], secretName: 'my secret/tls' },
          ]),
          ingress('good', [{ hosts: ['good.example'], secretName: 'good-tls' }]),
        ]),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, ['shop/good-tls']);
    assert.deepEqual(
      ports.events.map((e) => [e.ingress, e.type, e.reason]),
      [
        ['shop/bad', 'Warning', 'WildcardHost'],
        ['shop/bad', 'Warning', 'NoSecretName'],
        ['shop/bad', 'Warning', 'InvalidSecretName'],
        ['shop/bad', 'Warning', 'InvalidSecretName'],
        ['shop/good', 'Normal', 'Issued'],
      ],
    );
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 5,
      issued: 1,
      renewed: 0,
      valid: 0,
      skipped: 0,
      failed: 4,
    });
    // A status entry only where the Secret name is valid: "shop.my secret/tls" is no ConfigMap
    // key, and the API server would refuse the whole status (and its back-off memory) for it.
    for (const key of Object.keys(encodeStatus(report.certificates, report.run))) {
      assert.match(key, /^[-._a-zA-Z0-9]+$/);
    }
    assert.deepEqual(
      report.certificates.map((c) => [c.secretName, c.result, c.reason]),
      [
        ['good-tls', 'Issued', 'SecretMissing'],
        ['wild-tls', 'Invalid', 'WildcardHost'],
      ],
    );
  });

  test('an invalid entry that names the Secret of a valid certificate leaves that certificate’s status alone', async () => {
    // One status entry per Secret: a second entry for the same key would overwrite the
    // certificate's (and with it the failure memory the next run backs off by).
    const hosts = ['a.example'];
    const ports = new FakeActPorts();
    ports.outcomes.set('shop/web-tls', new AcmeError('refused', undefined, undefined));
    const report = await act(
      await plan(
        new FakeCluster([
          ingress('a', [{ hosts, secretName: 'web-tls' }]),
          ingress('z', [{ hosts: ['bad host'], secretName: 'web-tls' }]),
        ]),
      ),
      ports,
    );
    assert.deepEqual(
      ports.events.map((e) => [e.ingress, e.type, e.reason]),
      [
        ['shop/z', 'Warning', 'InvalidHost'],
        ['shop/a', 'Warning', 'IssuanceFailed'],
      ],
    );
    assert.equal(report.run.failed, 2);
    const web = entry(report, 'shop', 'web-tls');
    assert.equal(web.result, 'Failed');
    assert.equal(web.failures, 1);
    assert.equal(web.retryAfter, at(HOUR).toISOString());
  });

  test('invalid entries of several Ingresses for one Secret share one status entry', async () => {
    const ports = new FakeActPorts();
    const report = await act(
      await plan(
        new FakeCluster([
          ingress('a', [{ hosts: ['a.example'], secretName: 'shared-tls' }]),
          ingress('b', [{ hosts: ['b.example'], secretName: 'shared-tls' }]),
        ]),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, []);
    assert.deepEqual(
      ports.events.map((e) => [e.ingress, e.reason]),
      [
        ['shop/a', 'SecretNameConflict'],
        ['shop/b', 'SecretNameConflict'],
      ],
    );
    const shared = entry(report, 'shop', 'shared-tls');
    assert.equal(shared.result, 'Invalid');
    assert.deepEqual(shared.ingresses, ['shop/a', 'shop/b']);
    assert.equal(report.run.failed, 2);
  });

  test('Blocked (a Secret of another type): Warning SecretTypeMismatch, nothing ordered, failed', async () => {
    const hosts = ['shop.example'];
    const ports = new FakeActPorts();
    const report = await act(
      await plan(
        new FakeCluster(
          [
            ingress('web', [{ hosts, secretName: 'web-tls' }]),
            ingress('web2', [{ hosts, secretName: 'web-tls' }]),
          ],
          [secret({ name: 'web-tls', type: 'Opaque', data: { password: 'x' } })],
        ),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, []);
    assert.deepEqual(
      ports.events.map((e) => [e.ingress, e.type, e.reason]),
      [
        ['shop/web', 'Warning', 'SecretTypeMismatch'],
        ['shop/web2', 'Warning', 'SecretTypeMismatch'],
      ],
    );
    assert.match(ports.events[0]!.message, /has type "Opaque"/);
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 1,
      issued: 0,
      renewed: 0,
      valid: 0,
      skipped: 0,
      failed: 1,
    });
    const blocked = entry(report, 'shop', 'web-tls');
    assert.equal(blocked.result, 'Invalid');
    assert.equal(blocked.reason, 'SecretTypeMismatch');
  });

  test('BackingOff: nothing ordered, no Event, failed, failure memory kept', async () => {
    const hosts = ['shop.example'];
    const previous = status({
      hosts,
      failures: 1,
      lastFailureAt: at(-30 * MINUTE).toISOString(),
      retryAfter: at(30 * MINUTE).toISOString(),
      failedHosts: hosts,
    });
    const ports = new FakeActPorts();
    const report = await act(
      await plan(
        new FakeCluster([ingress('web', [{ hosts, secretName: 'web-tls' }])], [], [previous]),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, []);
    assert.deepEqual(ports.events, []);
    assert.equal(report.run.failed, 1);
    assert.equal(report.run.result, 'Succeeded');
    const waiting = entry(report, 'shop', 'web-tls');
    assert.equal(waiting.result, 'BackingOff');
    assert.equal(waiting.reason, 'BackingOff');
    assert.equal(waiting.failures, 1);
    assert.equal(waiting.lastFailureAt, previous.lastFailureAt);
    assert.equal(waiting.retryAfter, previous.retryAfter);
    assert.deepEqual(waiting.failedHosts, hosts);
  });
});

describe('reconcile: the Lease', () => {
  test('mayContinue() false: no order, LeaseLost, counted as failed, the run itself succeeded', async () => {
    const ports = new FakeActPorts();
    ports.leaseLostAfter = 0;
    const report = await act(
      await plan(
        new FakeCluster([ingress('web', [{ hosts: ['a.example'], secretName: 'web-tls' }])]),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, []);
    assert.deepEqual(ports.events, []);
    const lost = entry(report, 'shop', 'web-tls');
    assert.equal(lost.result, 'Failed');
    assert.equal(lost.reason, 'LeaseLost');
    assert.equal(lost.failures, 0, 'not the certificate’s failure: no back-off');
    assert.deepEqual(counts(report), {
      result: 'Succeeded',
      entries: 1,
      issued: 0,
      renewed: 0,
      valid: 0,
      skipped: 0,
      failed: 1,
    });
  });

  test('a Lease lost after the first order stops the next order only', async () => {
    const ports = new FakeActPorts();
    ports.leaseLostAfter = 1;
    const report = await act(
      await plan(
        new FakeCluster(
          [
            ingress('a', [{ hosts: ['a.example'], secretName: 'a-tls' }]),
            ingress('b', [{ hosts: ['b.example'], secretName: 'b-tls' }]),
            ingress('c', [{ hosts: ['c.example'], secretName: 'c-tls' }], {}),
          ],
          [validSecret('c-tls', ['c.example'])],
        ),
      ),
      ports,
    );
    assert.deepEqual(ports.issued, ['shop/a-tls']);
    assert.deepEqual(
      report.certificates.map((c) => [c.secretName, c.result, c.reason]),
      [
        ['a-tls', 'Issued', 'SecretMissing'],
        ['b-tls', 'Failed', 'LeaseLost'],
        ['c-tls', 'Valid', 'UpToDate'],
      ],
    );
  });
});

describe('reconcile: port failures', () => {
  test('an Event that cannot be recorded never fails the run; it is logged', async () => {
    const ports = new FakeActPorts();
    ports.eventError = new KubeApiError('create Event', 403, 'Forbidden', 'events is forbidden');
    const { logger, lines } = capture();
    const report = await act(
      await plan(
        new FakeCluster([
          ingress('a', [{ hosts: ['a.example'], secretName: 'a-tls' }]),
          ingress('b', [{ hosts: ['b.example'], secretName: 'b-tls' }]),
        ]),
      ),
      ports,
      logger,
    );
    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/b-tls']);
    assert.equal(report.run.result, 'Succeeded');
    assert.equal(report.run.issued, 2);
    const warnings = lines.filter((l) => l.msg === 'could not record an Event');
    assert.deepEqual(
      warnings.map((l) => [l.level, l.namespace, l.ingress]),
      [
        ['warn', 'shop', 'a'],
        ['warn', 'shop', 'b'],
      ],
    );
    assert.match(String(warnings[0]!.error), /HTTP 403 Forbidden/);
  });

  test('a status that cannot be written fails the run after every certificate was tried', async () => {
    const ports = new FakeActPorts();
    const error = new KubeApiError('apply status ConfigMap', 500, undefined, 'etcd down');
    ports.statusError = error;
    ports.outcomes.set('shop/a-tls', new AcmeError('refused', undefined, undefined));
    await assert.rejects(
      reconcile(
        await plan(
          new FakeCluster([
            ingress('a', [{ hosts: ['a.example'], secretName: 'a-tls' }]),
            ingress('b', [{ hosts: ['b.example'], secretName: 'b-tls' }]),
          ]),
        ),
        ports,
        silentLogger,
        () => NOW,
        STARTED_AT,
      ),
      error,
    );
    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/b-tls']);
    assert.equal(ports.writes.length, 1);
  });

  test('one info line per decision with its reason; key material never logged', async () => {
    const ports = new FakeActPorts();
    const { logger, lines } = capture();
    await act(
      await plan(
        new FakeCluster(
          [
            ingress('a', [{ hosts: ['a.example'], secretName: 'a-tls' }]),
            ingress('ok', [{ hosts: ['ok.example'], secretName: 'ok-tls' }]),
          ],
          [validSecret('ok-tls', ['ok.example'])],
        ),
      ),
      ports,
      logger,
    );
    const decisions = lines.filter((l) => l.decision !== undefined);
    assert.deepEqual(
      decisions.map((l) => [l.secret, l.decision, l.reason]),
      [
        ['a-tls', 'Issue', 'SecretMissing'],
        ['ok-tls', 'Valid', 'UpToDate'],
      ],
    );
    for (const line of lines) assert.ok(!JSON.stringify(line).includes('PRIVATE KEY'));
  });
});

describe('reconcile: a plan built by hand', () => {
  test('an Issue decision made by decideAction is carried out as given', async () => {
    const certificate: DesiredCertificate = {
      namespace: 'blog',
      secretName: 'blog-tls',
      hosts: ['blog.example'],
      commonName: 'blog.example',
      requesters: [
        { kind: 'Ingress', namespace: 'blog', name: 'blog', uid: 'uid-blog', index: 0 },
        { kind: 'Ingress', namespace: 'blog', name: 'blog', uid: 'uid-blog', index: 1 },
      ],
      ingressClass: 'gce',
      provider: 'gce',
    };
    const action = decideAction(
      {
        certificate,
        secret: undefined,
        previous: undefined,
        directoryUrl: DIRECTORY,
        keyPolicy: SETTINGS.keyPolicy,
        minimumValidityMs: SETTINGS.minimumValidityMs,
      },
      NOW,
    );
    const runPlan: RunPlan = {
      decisions: [
        { certificate, secret: undefined, facts: undefined, previous: undefined, action },
      ],
      invalid: [],
      skipped: [{ namespace: 'blog', name: 'old', reason: 'NoTlsEntries', message: 'none' }],
      keyType: 'RSA 2048',
      previousStatus: { certificates: [], run: undefined, malformed: [] },
      directoryUrl: DIRECTORY,
      minimumValidityMs: SETTINGS.minimumValidityMs,
    };
    const ports = new FakeActPorts();
    const report = await act(runPlan, ports);
    assert.deepEqual(ports.issued, ['blog/blog-tls']);
    assert.equal(report.run.skipped, 1);
    assert.equal(report.run.issued, 1);
    // One Event per TLS entry that asked for the certificate.
    assert.equal(ports.events.length, 2);
    assert.deepEqual(entry(report, 'blog', 'blog-tls').ingresses, ['blog/blog', 'blog/blog']);
  });
});

describe('gatherAndDecide', () => {
  test('the status records each Secret’s facts; the next run decides from them, unparsed', async () => {
    const valid = validSecret('web-tls', ['a.example']);
    const cluster = () =>
      new FakeCluster(
        [
          ingress('web', [{ hosts: ['a.example'], secretName: 'web-tls' }]),
          ingress('new', [{ hosts: ['n.example'], secretName: 'new-tls' }]),
        ],
        [valid],
      );
    const first = await act(await plan(cluster()), new FakeActPorts());
    const recorded = entry(first, 'shop', 'web-tls').secretFacts;
    assert.equal(recorded?.resourceVersion, valid.resourceVersion);
    assert.equal(entry(first, 'shop', 'new-tls').secretFacts, undefined, 'issued: no record yet');

    const again = cluster();
    again.previous.push(...first.certificates);
    const next = await plan(again);
    const [decision] = next.decisions.filter((d) => d.certificate.secretName === 'web-tls');
    assert.equal(decision?.secretFacts, recorded, 'the record read, not a new one from parsing');
    assert.equal(decision?.action.kind, 'Valid');
    assert.deepEqual(
      decision?.facts,
      (await plan(cluster())).decisions.find((d) => d.certificate.secretName === 'web-tls')?.facts,
      'the same facts as parsing gives',
    );
  });

  test('getSecret is called only for Secrets missing from the TLS list', async () => {
    const cluster = new FakeCluster(
      [
        ingress('listed', [{ hosts: ['listed.example'], secretName: 'listed-tls' }]),
        ingress('missing', [{ hosts: ['missing.example'], secretName: 'missing-tls' }]),
        ingress('opaque', [{ hosts: ['opaque.example'], secretName: 'opaque-tls' }]),
      ],
      [
        validSecret('listed-tls', ['listed.example']),
        secret({ name: 'opaque-tls', type: 'Opaque', data: {} }),
      ],
    );
    const result = await plan(cluster);
    assert.deepEqual(cluster.getSecretCalls.sort(), ['shop/missing-tls', 'shop/opaque-tls']);
    assert.deepEqual(
      result.decisions.map((d) => [d.certificate.secretName, d.action.kind, d.action.reason]),
      [
        ['listed-tls', 'Valid', 'UpToDate'],
        ['missing-tls', 'Issue', 'SecretMissing'],
        ['opaque-tls', 'Blocked', 'SecretTypeMismatch'],
      ],
    );
  });

  test('a Secret of type Opaque found by getSecret is kept as the decision’s Secret and blocks', async () => {
    const opaque = secret({ name: 'web-tls', type: 'Opaque', data: { password: 'x' } });
    const result = await plan(
      new FakeCluster(
        [ingress('web', [{ hosts: ['a.example'], secretName: 'web-tls' }])],
        [opaque],
      ),
    );
    const [decision] = result.decisions;
    assert.ok(decision);
    assert.equal(decision.secret, opaque);
    assert.equal(decision.action.kind, 'Blocked');
    assert.equal(
      decision.action.kind === 'Blocked' && decision.action.needed.reason,
      'CertificateDataMissing',
    );
  });

  test('attaches the previous status by key, the certificate facts, and passes invalid and skipped on', async () => {
    const hosts = ['shop.example'];
    const previous = status({
      hosts,
      failures: 1,
      lastFailureAt: at(-10 * MINUTE).toISOString(),
      failedHosts: hosts,
    });
    const other = status({ namespace: 'elsewhere', secretName: 'web-tls', hosts });
    const cluster = new FakeCluster(
      [
        ingress('web', [{ hosts, secretName: 'web-tls' }]),
        ingress('ok', [{ hosts: ['ok.example'], secretName: 'ok-tls' }]),
        ingress('bad', [{ hosts: ['10.0.0.1'], secretName: 'bad-tls' }]),
        ingress('other', [], { ingressClassName: 'traefik' }),
      ],
      [validSecret('ok-tls', ['ok.example'])],
      [other, previous],
    );
    const result = await plan(cluster);
    const [ok, web] = result.decisions;
    assert.equal(web?.previous, previous);
    assert.equal(web?.action.kind, 'BackingOff');
    assert.equal(web?.facts, undefined);
    assert.equal(ok?.previous, undefined);
    assert.equal(ok?.facts?.notAfter.toISOString(), at(80 * DAY).toISOString());
    assert.deepEqual(
      result.invalid.map((i) => i.reason),
      ['IpAddressHost'],
    );
    assert.deepEqual(
      result.skipped.map((s) => s.reason),
      ['UnsupportedIngressClass'],
    );
    assert.deepEqual(result.previousStatus.certificates, [other, previous]);
  });

  test('a failing list call fails the gather: nothing is decided on a partial picture', async () => {
    const cluster = new FakeCluster([]);
    const error = new KubeApiError('list Ingresses', 403, 'Forbidden', 'forbidden');
    cluster.listIngresses = () => Promise.reject(error);
    await assert.rejects(plan(cluster), error);
  });
});

describe('reconcile: failures of the whole run are charged to the run, once', () => {
  const threeDue = () =>
    new FakeCluster([
      ingress('a', [{ hosts: ['a.example'], secretName: 'a-tls' }]),
      ingress('b', [{ hosts: ['b.example'], secretName: 'b-tls' }]),
      ingress('c', [{ hosts: ['c.example'], secretName: 'c-tls' }]),
    ]);
  const rows: [string, Error, string][] = [
    [
      'ACME server unreachable',
      new AcmeUnavailableError(
        'ACME create order failed: connect ECONNREFUSED',
        undefined,
        undefined,
      ),
      'AcmeUnavailable',
    ],
    [
      'Kubernetes API without an answer',
      new KubeApiError('update ConfigMap x/y', undefined, 'Timeout', 'no answer within 30s'),
      'KubeApiUnavailable',
    ],
    [
      'Kubernetes API answering 503, as the cause of another error',
      new KubeLegoError('could not open routes', {
        cause: new KubeApiError('create Ingress', 503, 'ServiceUnavailable', 'etcd is down'),
      }),
      'KubeApiUnavailable',
    ],
    ['an order abandoned after SIGTERM', new StoppedError('SIGTERM'), 'Stopped'],
  ];
  for (const [name, error, reason] of rows) {
    test(`${name}: one attempt, reason ${reason} on the run, no certificate backs off`, async () => {
      const ports = new FakeActPorts();
      ports.outcomes.set('shop/a-tls', error);
      const report = await act(await plan(threeDue()), ports);
      assert.deepEqual(ports.issued, ['shop/a-tls'], 'no order after the first failure');
      assert.equal(report.run.result, 'Failed');
      assert.equal(report.run.reason, reason);
      assert.match(report.run.message ?? '', /\S/);
      for (const name of ['a-tls', 'b-tls', 'c-tls']) {
        const recorded = entry(report, 'shop', name);
        assert.equal(recorded.result, 'Failed');
        assert.equal(recorded.reason, reason);
        assert.equal(recorded.failures, 0, `${name}: no failure counted`);
        assert.equal(recorded.retryAfter, undefined, `${name}: no back-off`);
      }
      assert.deepEqual(ports.events, [], 'no IssuanceFailed Event: nothing is wrong with them');
    });
  }

  test('a certificate that was already backing off keeps its failure memory as it was', async () => {
    const previous = status({
      secretName: 'a-tls',
      hosts: ['a.example'],
      result: 'Failed',
      failures: 2,
      lastFailureAt: at(-3 * HOUR).toISOString(),
      retryAfter: at(-HOUR).toISOString(),
      failedHosts: ['a.example'],
    });
    const ports = new FakeActPorts();
    ports.outcomes.set('shop/a-tls', new AcmeUnavailableError('timeout', undefined, undefined));
    const report = await act(
      await plan(new FakeCluster(threeDue().ingresses, [], [previous])),
      ports,
    );
    const recorded = entry(report, 'shop', 'a-tls');
    assert.equal(recorded.failures, 2);
    assert.equal(recorded.retryAfter, at(-HOUR).toISOString());
  });

  test('a stop request: no new order, the run says Stopped', async () => {
    const ports = new FakeActPorts();
    ports.stopAfter = { orders: 1, signal: 'SIGTERM' };
    const report = await act(await plan(threeDue()), ports);
    assert.deepEqual(ports.issued, ['shop/a-tls']);
    assert.equal(entry(report, 'shop', 'a-tls').result, 'Issued', 'the order in progress finished');
    assert.equal(entry(report, 'shop', 'b-tls').reason, 'Stopped');
    assert.equal(entry(report, 'shop', 'b-tls').failures, 0);
    assert.equal(report.run.reason, 'Stopped');
  });
});

describe('reconcile: the operator’s requests (retry, renew) and the kept failure', () => {
  const hosts = ['shop.example'];
  const failing = () =>
    status({
      hosts,
      result: 'BackingOff',
      reason: 'BackingOff',
      message: '1 consecutive failed attempt',
      failures: 1,
      lastFailureAt: at(-30 * MINUTE).toISOString(),
      lastFailureReason: 'AcmeConnection',
      lastFailureMessage: 'Fetching http://shop.example/…: connection refused',
      retryAfter: at(30 * MINUTE).toISOString(),
      failedHosts: hosts,
      history: [
        {
          at: at(-30 * MINUTE).toISOString(),
          result: 'Failed',
          reason: 'AcmeConnection',
          message: 'connection refused',
        },
      ],
    });
  const request = (kind: 'retry' | 'renew'): PendingRequest => ({
    kind,
    key: `_${kind}.shop.web-tls`,
    value: at(-MINUTE).toISOString(),
  });
  const web = () => [ingress('web', [{ hosts, secretName: 'web-tls' }])];

  const rows: {
    name: string;
    secrets: () => SecretView[];
    previous: () => CertificateStatus[];
    requests: PendingRequest[];
    clearError?: Error;
    issued: string[];
    cleared: string[];
    result: CertificateStatus['result'];
    reason: string;
  }[] = [
    {
      name: 'a back-off run keeps the failure’s reason, message, time and history',
      secrets: () => [],
      previous: () => [failing()],
      requests: [],
      issued: [],
      cleared: [],
      result: 'BackingOff',
      reason: 'BackingOff',
    },
    {
      name: 'retry skips the back-off: ordered at once, the request removed first',
      secrets: () => [],
      previous: () => [failing()],
      requests: [request('retry')],
      issued: ['shop/web-tls'],
      cleared: ['_retry.shop.web-tls'],
      result: 'Issued',
      reason: 'SecretMissing',
    },
    {
      name: 'renew of a valid certificate: RenewalRequested',
      secrets: () => [validSecret('web-tls', hosts)],
      previous: () => [],
      requests: [request('renew')],
      issued: ['shop/web-tls'],
      cleared: ['_renew.shop.web-tls'],
      result: 'Renewed',
      reason: 'RenewalRequested',
    },
    {
      name: 'renew of a certificate that is due anyway keeps the chain’s own reason',
      secrets: () => [dueSecret('web-tls', hosts)],
      previous: () => [],
      requests: [request('renew')],
      issued: ['shop/web-tls'],
      cleared: ['_renew.shop.web-tls'],
      result: 'Renewed',
      reason: 'RenewalDue',
    },
    {
      name: 'retry of a valid certificate: nothing ordered, the request removed',
      secrets: () => [validSecret('web-tls', hosts)],
      previous: () => [],
      requests: [request('retry')],
      issued: [],
      cleared: ['_retry.shop.web-tls'],
      result: 'Valid',
      reason: 'UpToDate',
    },
    {
      name: 'a request that cannot be removed is not honoured (no order every run)',
      secrets: () => [validSecret('web-tls', hosts)],
      previous: () => [],
      requests: [request('renew')],
      clearError: new Error('the object has been modified'),
      issued: [],
      cleared: [],
      result: 'Failed',
      reason: 'RequestNotCleared',
    },
  ];

  for (const row of rows) {
    test(row.name, async () => {
      const cluster = new FakeCluster(web(), row.secrets(), row.previous());
      cluster.requests = row.requests;
      const ports = new FakeActPorts();
      ports.clearError = row.clearError;
      const report = await act(await plan(cluster), ports);
      assert.deepEqual(ports.issued, row.issued);
      assert.deepEqual(ports.clearedRequests, row.cleared);
      const after = entry(report, 'shop', 'web-tls');
      assert.equal(after.result, row.result);
      assert.equal(after.reason, row.reason);
      const before = row.previous()[0];
      if (row.result === 'BackingOff' && before) {
        for (const field of [
          'lastFailureAt',
          'lastFailureReason',
          'lastFailureMessage',
          'retryAfter',
          'failures',
          'history',
        ] as const)
          assert.deepEqual(after[field], before[field], `${field} unchanged by a back-off run`);
      }
      if (row.result === 'Issued' || row.result === 'Renewed') {
        assert.equal(after.lastSuccessAt, NOW.toISOString());
        assert.equal(after.failures, 0);
        assert.equal(after.lastFailureReason, undefined);
        const last = after.history?.at(-1);
        assert.deepEqual(
          { result: last?.result, reason: last?.reason, at: last?.at },
          { result: row.result, reason: row.reason, at: NOW.toISOString() },
        );
        assert.equal(after.keyType, 'RSA 2048', 'the key policy’s key type');
        // The earlier failure stays in the history.
        assert.equal(after.history?.length, (before?.history?.length ?? 0) + 1);
      }
    });
  }
});

describe('reconcile: the run’s budgets (LEGO_RUN_BUDGET, LEGO_MAX_ORDERS_PER_RUN)', () => {
  /** `count` Ingresses whose certificates are all missing, a-tls, b-tls, … in plan order. */
  function dueCluster(count: number): FakeCluster {
    return new FakeCluster(
      Array.from({ length: count }, (_, i) => {
        const name = String.fromCharCode(97 + i);
        return ingress(name, [{ hosts: [`${name}.example`], secretName: `${name}-tls` }]);
      }),
    );
  }

  test('the order budget: N orders, the rest Deferred with no back-off, the run Succeeded', async () => {
    const ports = new FakeActPorts();
    const report = await reconcile(
      await plan(dueCluster(5)),
      ports,
      silentLogger,
      () => NOW,
      STARTED_AT,
      { timeMs: HOUR, maxOrders: 2 },
    );
    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/b-tls']);
    assert.deepEqual(
      report.certificates.map((c) => [c.secretName, c.result, c.reason, c.failures]),
      [
        ['a-tls', 'Issued', 'SecretMissing', 0],
        ['b-tls', 'Issued', 'SecretMissing', 0],
        ['c-tls', 'Deferred', 'OrderBudgetExhausted', 0],
        ['d-tls', 'Deferred', 'OrderBudgetExhausted', 0],
        ['e-tls', 'Deferred', 'OrderBudgetExhausted', 0],
      ],
    );
    assert.deepEqual(
      ports.events.map((e) => e.reason),
      ['Issued', 'Issued'],
      'no Event',
    );
    assert.equal(report.run.result, 'Succeeded');
    assert.equal(report.run.deferred, 3);
    assert.equal(report.run.failed, 0);
    assert.equal(ports.writes.length, 1, 'the status is written');
  });

  test('a spent budget defers first issuances, not the renewal of a certificate about to expire', async () => {
    const ports = new FakeActPorts();
    const ingresses = dueCluster(3).ingresses;
    ingresses.push(ingress('z', [{ hosts: ['z.example'], secretName: 'z-tls' }]));
    const report = await reconcile(
      await plan(new FakeCluster(ingresses, [dueSecret('z-tls', ['z.example'])])),
      ports,
      silentLogger,
      () => NOW,
      STARTED_AT,
      { timeMs: HOUR, maxOrders: 1 },
    );
    // z-tls comes last by name but first by urgency: 10 days left.
    assert.deepEqual(ports.issued, ['shop/z-tls']);
    assert.deepEqual(
      report.certificates.map((c) => [c.secretName, c.result]),
      [
        ['a-tls', 'Deferred'],
        ['b-tls', 'Deferred'],
        ['c-tls', 'Deferred'],
        ['z-tls', 'Renewed'],
      ],
      'the statuses keep the plan order',
    );
  });

  test('a spent budget: a kept certificate is still installed (no order); a kept order is deferred and counted', async () => {
    const ports = new FakeActPorts();
    ports.kept.set('shop/b-tls', 'download');
    ports.kept.set('shop/c-tls', 'install');
    const report = await reconcile(
      await plan(dueCluster(4)),
      ports,
      silentLogger,
      () => NOW,
      STARTED_AT,
      { timeMs: HOUR, maxOrders: 1 },
    );
    // a-tls spends the one order; b-tls's kept order could lead to a new one, so it waits.
    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/c-tls']);
    assert.deepEqual(
      report.certificates.map((c) => [c.secretName, c.result, c.reason]),
      [
        ['a-tls', 'Issued', 'SecretMissing'],
        ['b-tls', 'Deferred', 'OrderBudgetExhausted'],
        ['c-tls', 'Issued', 'SecretMissing'],
        ['d-tls', 'Deferred', 'OrderBudgetExhausted'],
      ],
    );
  });

  test('a failed order counts against the order budget too', async () => {
    const ports = new FakeActPorts();
    ports.outcomes.set(
      'shop/a-tls',
      new AcmeError('rejected', 'urn:ietf:params:acme:error:rejectedIdentifier', undefined),
    );
    const report = await reconcile(
      await plan(dueCluster(3)),
      ports,
      silentLogger,
      () => NOW,
      STARTED_AT,
      { timeMs: HOUR, maxOrders: 2 },
    );
    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/b-tls']);
    assert.deepEqual(
      report.certificates.map((c) => c.result),
      ['Failed', 'Issued', 'Deferred'],
    );
  });

  test('the time budget: no order starts once the clock passes it; the next run carries on', async () => {
    // Each order takes a minute on this clock; the budget is 2.5 minutes from the start.
    let clock = STARTED_AT.getTime();
    const ports = new FakeActPorts();
    const issue = ports.issue.bind(ports);
    ports.issue = (certificate, logger) => {
      clock += MINUTE;
      return issue(certificate, logger);
    };
    const budget = { timeMs: 2.5 * MINUTE, maxOrders: 100 };
    const { logger, lines } = capture();
    const first = await reconcile(
      await plan(dueCluster(5)),
      ports,
      logger,
      () => new Date(clock),
      STARTED_AT,
      budget,
    );
    assert.deepEqual(ports.issued, ['shop/a-tls', 'shop/b-tls', 'shop/c-tls']);
    assert.deepEqual(
      first.certificates.map((c) => [c.secretName, c.result, c.reason]),
      [
        ['a-tls', 'Issued', 'SecretMissing'],
        ['b-tls', 'Issued', 'SecretMissing'],
        ['c-tls', 'Issued', 'SecretMissing'],
        ['d-tls', 'Deferred', 'RunBudgetExhausted'],
        ['e-tls', 'Deferred', 'RunBudgetExhausted'],
      ],
    );
    assert.equal(
      lines.filter((l) => l.msg === 'run budget spent: no further order starts in this run').length,
      1,
      'said once',
    );
    // The next run, from the recorded status: a deferred certificate is not backing off.
    const next = await plan(
      new FakeCluster(
        dueCluster(5).ingresses,
        [
          validSecret('a-tls', ['a.example']),
          validSecret('b-tls', ['b.example']),
          validSecret('c-tls', ['c.example']),
        ],
        first.certificates,
      ),
    );
    assert.deepEqual(
      next.decisions.map((d) => d.action.kind),
      ['Valid', 'Valid', 'Valid', 'Issue', 'Issue'],
    );
    const again = new FakeActPorts();
    const second = await reconcile(next, again, silentLogger, () => NOW, NOW, budget);
    assert.deepEqual(again.issued, ['shop/d-tls', 'shop/e-tls']);
    assert.equal(second.run.deferred, undefined);
  });

  test('a deferred certificate keeps the operator’s request for the next run', async () => {
    const cluster = dueCluster(2);
    const request: PendingRequest = { kind: 'retry', key: '_retry.shop.b-tls', value: 'now' };
    cluster.requests = [request];
    const ports = new FakeActPorts();
    const report = await reconcile(
      await plan(cluster),
      ports,
      silentLogger,
      () => NOW,
      STARTED_AT,
      {
        timeMs: HOUR,
        maxOrders: 1,
      },
    );
    assert.deepEqual(ports.issued, ['shop/a-tls']);
    assert.equal(entry(report, 'shop', 'b-tls').result, 'Deferred');
    assert.deepEqual(ports.clearedRequests, [], 'not removed: it was not honoured');
  });
});
