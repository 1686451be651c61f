/**
 * Layer: unit. The pure outcome mapping (jobs/decide/outcome.ts), table-driven with a fixed
 * `now`: for each decision, the count, the log line, the Event and the status entry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Action } from '../../../jobs/decide/action.js';
import type { CertificateFacts } from '../../../jobs/decide/certificate-facts.js';
import {
  describeFailure,
  failedOutcome,
  invalidEntryOutcomes,
  issuedOutcome,
  orderStartLog,
  outcomeWithoutOrder,
  runSummary,
  type CertificateDecision,
  type CertificateOutcome,
} from '../../../jobs/decide/outcome.js';
import type { InvalidEntryReason } from '../../../jobs/decide/reasons.js';
import type { InvalidEntry } from '../../../jobs/model.js';
import { AcmeError, KubeApiError, KubeLegoError } from '../../../shared/errors.js';
import type { CertificateStatus } from '../../../shared/status-entries.js';
import { DAY, HOUR, MINUTE, NOW, at, desired, status } from './fixtures.js';

const HOSTS = ['a.example', 'b.example'];
const NEEDED = { reason: 'RenewalDue', message: 'Due.' } as const;
const FACTS: CertificateFacts = {
  notBefore: at(-80 * DAY),
  notAfter: at(10 * DAY),
  dnsNames: HOSTS,
  serialNumber: '01',
  issuer: 'CN=Test',
  key: { kind: 'rsa', bits: 2048 },
  chainLength: 2,
};
/** Failure memory of an earlier run: two failures for the same hosts. */
const FAILED_BEFORE: CertificateStatus = status({
  failures: 2,
  lastFailureAt: at(-3 * HOUR).toISOString(),
  retryAfter: at(-HOUR).toISOString(),
  failedHosts: HOSTS,
});

function decision(action: Action, previous?: CertificateStatus): CertificateDecision {
  return { certificate: desired(HOSTS), secret: undefined, facts: FACTS, previous, action };
}

const ISSUE: Extract<Action, { kind: 'Issue' }> = { kind: 'Issue', renewal: true, ...NEEDED };

/** The parts of an outcome a row pins. */
function summary(outcome: CertificateOutcome | undefined) {
  if (outcome === undefined) return undefined;
  const { status: entry } = outcome;
  return {
    tally: outcome.tally,
    level: outcome.log.level,
    log: outcome.log.message,
    event: outcome.event ? `${outcome.event.type} ${outcome.event.reason}` : undefined,
    result: entry.result,
    reason: entry.reason,
    failures: entry.failures,
    retryAfter: entry.retryAfter,
    notAfter: entry.notAfter,
  };
}

describe('outcomeWithoutOrder', () => {
  const rows: {
    name: string;
    action: Action;
    previous?: CertificateStatus;
    mayOrder?: boolean;
    expected: ReturnType<typeof summary>;
  }[] = [
    {
      name: 'Valid: counted valid, no Event, failure memory cleared',
      action: { kind: 'Valid', reason: 'UpToDate', message: 'Fine.' },
      previous: FAILED_BEFORE,
      expected: {
        tally: 'valid',
        level: 'info',
        log: 'certificate is valid',
        event: undefined,
        result: 'Valid',
        reason: 'UpToDate',
        failures: 0,
        retryAfter: undefined,
        notAfter: FACTS.notAfter.toISOString(),
      },
    },
    {
      name: 'Blocked: failed, Warning SecretTypeMismatch, Invalid, failure memory kept',
      action: {
        kind: 'Blocked',
        reason: 'SecretTypeMismatch',
        message: 'Not a TLS Secret.',
        needed: NEEDED,
      },
      previous: FAILED_BEFORE,
      expected: {
        tally: 'failed',
        level: 'warn',
        log: 'certificate needed but the Secret cannot be written',
        event: 'Warning SecretTypeMismatch',
        result: 'Invalid',
        reason: 'SecretTypeMismatch',
        failures: 2,
        retryAfter: FAILED_BEFORE.retryAfter,
        notAfter: FACTS.notAfter.toISOString(),
      },
    },
    {
      name: 'BackingOff: failed, no Event, failure memory kept',
      action: {
        kind: 'BackingOff',
        reason: 'BackingOff',
        until: at(HOUR),
        message: 'Waiting.',
        needed: NEEDED,
      },
      previous: FAILED_BEFORE,
      expected: {
        tally: 'failed',
        level: 'info',
        log: 'certificate needed; backing off after earlier failures',
        event: undefined,
        result: 'BackingOff',
        reason: 'BackingOff',
        failures: 2,
        retryAfter: FAILED_BEFORE.retryAfter,
        notAfter: FACTS.notAfter.toISOString(),
      },
    },
    {
      name: 'Issue with the Lease lost: failed, LeaseLost, no Event',
      action: ISSUE,
      mayOrder: false,
      expected: {
        tally: 'failed',
        level: 'warn',
        log: 'certificate needed but the run lost its Lease; left for the next run',
        event: undefined,
        result: 'Failed',
        reason: 'LeaseLost',
        failures: 0,
        retryAfter: undefined,
        notAfter: FACTS.notAfter.toISOString(),
      },
    },
    { name: 'Issue that may go ahead: no outcome yet', action: ISSUE, expected: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const outcome = outcomeWithoutOrder(
        decision(row.action, row.previous),
        row.mayOrder ?? true,
        NOW,
      );
      assert.deepEqual(summary(outcome), row.expected);
      if (outcome) {
        assert.equal(outcome.status.checkedAt, NOW.toISOString());
        assert.deepEqual(outcome.status.ingresses, ['shop/web']);
        assert.deepEqual(outcome.status.hosts, HOSTS);
      }
    });
  }
});

describe('an order', () => {
  test('starts with an info line that says issue or renew', () => {
    assert.equal(orderStartLog(ISSUE).message, 'renewing certificate');
    assert.equal(orderStartLog({ ...ISSUE, renewal: false }).message, 'issuing certificate');
  });

  test('that stored a certificate: Issued or Renewed, Normal Event, new notAfter, memory cleared', () => {
    const issued = { notAfter: at(90 * DAY), serialNumber: '0a1b' };
    for (const renewal of [false, true]) {
      const action = { ...ISSUE, renewal };
      const outcome = issuedOutcome({ ...decision(action, FAILED_BEFORE), action }, issued, NOW);
      const result = renewal ? 'Renewed' : 'Issued';
      assert.deepEqual(summary(outcome), {
        tally: renewal ? 'renewed' : 'issued',
        level: 'info',
        log: renewal ? 'certificate renewed' : 'certificate issued',
        event: `Normal ${result}`,
        result,
        reason: 'RenewalDue',
        failures: 0,
        retryAfter: undefined,
        notAfter: issued.notAfter.toISOString(),
      });
      assert.equal(
        outcome.event?.message,
        `Certificate for a.example, b.example stored in Secret web-tls, valid until ${issued.notAfter.toISOString()} (RenewalDue: Due.)`,
      );
      assert.equal(outcome.status.lastFailureAt, undefined);
    }
  });

  test('that failed: one more failure, back-off, Warning IssuanceFailed naming the next attempt', () => {
    const failedAt = at(5 * MINUTE);
    const outcome = failedOutcome(
      decision(ISSUE, FAILED_BEFORE),
      { reason: 'AcmeConnection', message: 'No answer.' },
      failedAt,
      NOW,
    );
    // Third failure for the same hosts: 1h · 2² = 4h after the failure.
    const retryAfter = at(4 * HOUR, failedAt).toISOString();
    assert.deepEqual(summary(outcome), {
      tally: 'failed',
      level: 'error',
      log: 'certificate could not be obtained',
      event: 'Warning IssuanceFailed',
      result: 'Failed',
      reason: 'AcmeConnection',
      failures: 3,
      retryAfter,
      notAfter: FACTS.notAfter.toISOString(),
    });
    assert.equal(outcome.event?.message, `No answer. Next attempt not before ${retryAfter}.`);
    assert.equal(outcome.status.checkedAt, NOW.toISOString(), 'checked when decided');
    assert.equal(outcome.status.lastFailureAt, failedAt.toISOString(), 'failed when it failed');
  });
});

describe('describeFailure', () => {
  const retryAfter = at(2 * HOUR);
  const rows: { name: string; error: unknown; reason: string; retryAfter?: Date }[] = [
    {
      name: 'an ACME problem type becomes Acme<Type>, with the Retry-After',
      error: new AcmeError('slow down', 'urn:ietf:params:acme:error:rateLimited', retryAfter),
      reason: 'AcmeRateLimited',
      retryAfter,
    },
    {
      name: 'an ACME error without a problem type',
      error: new AcmeError('broken', undefined, undefined),
      reason: 'AcmeError',
    },
    {
      name: 'one of our errors: its class name without Error',
      error: new KubeApiError('create Secret shop/web-tls', 403, 'Forbidden', 'no'),
      reason: 'KubeApi',
    },
    {
      name: 'a subclass keeps its own name',
      error: new (class SelfCheckError extends KubeLegoError {})('not served'),
      reason: 'SelfCheck',
    },
    { name: 'anything else', error: new TypeError('x is undefined'), reason: 'UnexpectedError' },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const failure = describeFailure(row.error);
      assert.equal(failure.reason, row.reason);
      assert.equal(failure.retryAfter, row.retryAfter);
      assert.ok(failure.message.length > 0);
    });
  }
});

describe('invalidEntryOutcomes', () => {
  const entry = (
    name: string,
    secretName: string | undefined,
    reason: InvalidEntryReason,
  ): InvalidEntry => ({
    ref: { kind: 'Ingress', namespace: 'shop', name, uid: `uid-${name}`, index: 0 },
    secretName,
    reason,
    message: `${reason}.`,
  });

  test('a Warning Event and a log line each; one Invalid status per Secret, shared', () => {
    const { entries, statuses } = invalidEntryOutcomes(
      [entry('a', 'x-tls', 'InvalidHost'), entry('b', 'x-tls', 'InvalidHost')],
      [],
      NOW,
    );
    assert.deepEqual(
      entries.map((e) => [e.log.level, e.log.message, e.event.type, e.event.reason]),
      [
        ['warn', 'invalid TLS entry', 'Warning', 'InvalidHost'],
        ['warn', 'invalid TLS entry', 'Warning', 'InvalidHost'],
      ],
    );
    assert.equal(statuses.length, 1);
    assert.deepEqual(statuses[0]?.ingresses, ['shop/a', 'shop/b']);
    assert.equal(statuses[0]?.result, 'Invalid');
  });

  test('no status for a missing or invalid Secret name, nor for a Secret a certificate is decided for', () => {
    const decided = decision({ kind: 'Valid', reason: 'UpToDate', message: 'Fine.' });
    const { entries, statuses } = invalidEntryOutcomes(
      [
        entry('a', undefined, 'NoSecretName'),
        entry('b', 'Bad_Name', 'InvalidSecretName'),
        entry('c', decided.certificate.secretName, 'InvalidHost'),
      ],
      [decided],
      NOW,
    );
    assert.equal(entries.length, 3, 'each still gets its Event');
    assert.deepEqual(statuses, []);
  });
});

test('runSummary: Succeeded whatever became of the certificates (the run itself worked)', () => {
  const counts = { issued: 1, renewed: 0, valid: 2, skipped: 1, failed: 0 };
  // No `deferred` key unless a certificate was deferred (records stay as they were).
  assert.deepEqual(runSummary({ ...counts, deferred: 0 }, 3, at(-MINUTE), NOW), {
    startedAt: at(-MINUTE).toISOString(),
    finishedAt: NOW.toISOString(),
    result: 'Succeeded',
    entries: 3,
    ...counts,
    lastSuccessAt: NOW.toISOString(),
  });
  assert.equal(runSummary({ ...counts, deferred: 2 }, 5, at(-MINUTE), NOW).deferred, 2);
  const previous = runSummary({ ...counts, deferred: 0 }, 3, at(-DAY - MINUTE), at(-DAY));
  const failing = runSummary({ ...counts, deferred: 0, failed: 1 }, 4, at(-MINUTE), NOW, {
    directoryUrl: 'https://acme.example/directory',
    previous,
  });
  // A certificate's failure is in the counts, not in the run's result (issue 10 item 3).
  assert.equal(failing.result, 'Succeeded');
  assert.equal(failing.failed, 1);
  assert.equal(failing.lastSuccessAt, NOW.toISOString());
  assert.equal(failing.directoryUrl, 'https://acme.example/directory');
});
