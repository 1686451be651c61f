/**
 * Layer: unit. The operator's requests (jobs/decide/operator-requests.ts) and what they do to the
 * decision (jobs/decide/action.ts): a table over request × certificate state, with a fixed `now`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideAction, type ActionInput } from '../../../jobs/decide/action.js';
import { parseSecret } from '../../../jobs/decide/certificate-facts.js';
import { findRequests, requestKey } from '../../../jobs/decide/operator-requests.js';
import type { SecretView } from '../../../jobs/model.js';
import type { CertificateStatus, PendingRequest } from '../../../shared/status-entries.js';
import { DAY, HOUR, MINUTE, NOW, at, desired, secret, status, tlsSecret } from './fixtures.js';

const HOSTS = ['a.example', 'b.example'];
const GOOD = {
  key: 'rsa-a',
  dnsNames: HOSTS,
  notBefore: at(-10 * DAY),
  notAfter: at(80 * DAY),
} as const;
const DUE = { ...GOOD, notBefore: at(-80 * DAY), notAfter: at(10 * DAY) };
const BACKING_OFF: CertificateStatus = status({
  failures: 2,
  lastFailureAt: at(-30 * MINUTE).toISOString(),
  failedHosts: HOSTS,
});
const request = (kind: 'retry' | 'renew'): PendingRequest => ({
  kind,
  key: requestKey(kind, 'shop', 'web-tls'),
  value: 'now',
});

function input(
  secretView: SecretView | undefined,
  previous: CertificateStatus | undefined,
  requests: PendingRequest[],
): ActionInput {
  return {
    certificate: desired(HOSTS),
    secret: secretView === undefined ? undefined : parseSecret(secretView),
    previous,
    requests,
    directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
    keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
    minimumValidityMs: 720 * HOUR,
  };
}

describe('findRequests', () => {
  test('only the certificate’s own keys, at most one per kind', () => {
    const pending: PendingRequest[] = [
      request('retry'),
      { kind: 'renew', key: requestKey('renew', 'shop', 'other-tls'), value: 'x' },
      { kind: 'renew', key: requestKey('renew', 'blog', 'web-tls'), value: 'x' },
      request('renew'),
    ];
    assert.deepEqual(findRequests({ namespace: 'shop', secretName: 'web-tls' }, pending), [
      request('retry'),
      request('renew'),
    ]);
    assert.deepEqual(findRequests({ namespace: 'shop', secretName: 'none' }, pending), []);
  });
});

describe('decideAction with requests', () => {
  const rows: {
    name: string;
    secret: () => SecretView | undefined;
    previous?: CertificateStatus;
    requests: PendingRequest[];
    expected: { kind: string; reason: string };
  }[] = [
    {
      name: 'no request, backing off',
      secret: () => undefined,
      previous: BACKING_OFF,
      requests: [],
      expected: { kind: 'BackingOff', reason: 'BackingOff' },
    },
    {
      name: 'retry skips the back-off; the chain’s reason stays',
      secret: () => undefined,
      previous: BACKING_OFF,
      requests: [request('retry')],
      expected: { kind: 'Issue', reason: 'SecretMissing' },
    },
    {
      name: 'retry of a valid certificate changes nothing',
      secret: () => tlsSecret(GOOD),
      requests: [request('retry')],
      expected: { kind: 'Valid', reason: 'UpToDate' },
    },
    {
      name: 'renew of a valid certificate: RenewalRequested',
      secret: () => tlsSecret(GOOD),
      requests: [request('renew')],
      expected: { kind: 'Issue', reason: 'RenewalRequested' },
    },
    {
      name: 'renew of a due certificate: the earlier reason wins',
      secret: () => tlsSecret(DUE),
      requests: [request('renew')],
      expected: { kind: 'Issue', reason: 'RenewalDue' },
    },
    {
      name: 'renew also skips the back-off',
      secret: () => tlsSecret(GOOD),
      previous: BACKING_OFF,
      requests: [request('renew')],
      expected: { kind: 'Issue', reason: 'RenewalRequested' },
    },
    {
      name: 'renew never overwrites a Secret of another type',
      secret: () => secret({ type: 'Opaque' }),
      requests: [request('renew')],
      expected: { kind: 'Blocked', reason: 'SecretTypeMismatch' },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const action = decideAction(input(row.secret(), row.previous, row.requests), NOW);
      assert.deepEqual({ kind: action.kind, reason: action.reason }, row.expected);
    });
  }
});
