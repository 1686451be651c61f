import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideAction, type Action, type ActionInput } from '../../../jobs/decide/action.js';
import { parseSecret } from '../../../jobs/decide/certificate-facts.js';
import type { CertificateStatus } from '../../../shared/status-entries.js';
import type { SecretView } from '../../../jobs/model.js';
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

function input(secretView: SecretView | undefined, statusEntry?: CertificateStatus): ActionInput {
  return {
    certificate: desired(HOSTS),
    secret: secretView === undefined ? undefined : parseSecret(secretView),
    previous: statusEntry,
    directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
    keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
    minimumValidityMs: 720 * HOUR,
  };
}

function summary(action: Action): unknown {
  switch (action.kind) {
    case 'Valid':
      return { kind: action.kind, reason: action.reason };
    case 'Issue':
      return { kind: action.kind, reason: action.reason, renewal: action.renewal };
    case 'Blocked':
      return { kind: action.kind, reason: action.reason, needed: action.needed.reason };
    case 'BackingOff':
      return {
        kind: action.kind,
        reason: action.reason,
        needed: action.needed.reason,
        until: action.until,
      };
  }
}

describe('decideAction', () => {
  const rows: { name: string; input: () => ActionInput; expected: unknown }[] = [
    {
      name: 'a valid certificate: nothing to do',
      input: () => input(tlsSecret(GOOD)),
      expected: { kind: 'Valid', reason: 'UpToDate' },
    },
    {
      name: 'valid wins over a back-off',
      input: () => input(tlsSecret(GOOD), BACKING_OFF),
      expected: { kind: 'Valid', reason: 'UpToDate' },
    },
    {
      name: 'valid in a Secret of another type: left alone, nothing needed',
      input: () => input(tlsSecret(GOOD, { type: 'Opaque' })),
      expected: { kind: 'Valid', reason: 'UpToDate' },
    },
    {
      name: 'no Secret: first issuance',
      input: () => input(undefined),
      expected: { kind: 'Issue', reason: 'SecretMissing', renewal: false },
    },
    {
      name: 'an empty Secret: first issuance',
      input: () => input(secret()),
      expected: { kind: 'Issue', reason: 'CertificateDataMissing', renewal: false },
    },
    {
      name: 'due for renewal: a renewal',
      input: () => input(tlsSecret(DUE)),
      expected: { kind: 'Issue', reason: 'RenewalDue', renewal: true },
    },
    {
      name: 'an unparseable certificate is still replaced as a renewal',
      input: () => input(secret({ data: { 'tls.crt': 'garbage', 'tls.key': 'garbage' } })),
      expected: { kind: 'Issue', reason: 'CertificateUnparseable', renewal: true },
    },
    {
      name: 'needed, but the Secret is Opaque: blocked, never overwritten',
      input: () => input(tlsSecret(DUE, { type: 'Opaque' })),
      expected: { kind: 'Blocked', reason: 'SecretTypeMismatch', needed: 'RenewalDue' },
    },
    {
      name: 'wrong Secret type wins over a back-off (nothing is ordered either way)',
      input: () => input(secret({ type: 'Opaque' }), BACKING_OFF),
      expected: { kind: 'Blocked', reason: 'SecretTypeMismatch', needed: 'CertificateDataMissing' },
    },
    {
      name: 'needed while backing off',
      input: () => input(tlsSecret(DUE), BACKING_OFF),
      expected: {
        kind: 'BackingOff',
        reason: 'BackingOff',
        needed: 'RenewalDue',
        until: at(90 * MINUTE),
      },
    },
    {
      name: 'needed after the back-off ran out',
      input: () =>
        input(
          undefined,
          status({ failures: 2, lastFailureAt: at(-2 * HOUR).toISOString(), failedHosts: HOSTS }),
        ),
      expected: { kind: 'Issue', reason: 'SecretMissing', renewal: false },
    },
    {
      name: 'a changed host set is not held back by old failures',
      input: () => input(undefined, { ...BACKING_OFF, failedHosts: ['a.example'] }),
      expected: { kind: 'Issue', reason: 'SecretMissing', renewal: false },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.deepEqual(summary(decideAction(row.input(), NOW)), row.expected);
    });
  }

  test('messages are sentences that name the Secret type or the time to wait', () => {
    const blocked = decideAction(input(tlsSecret(DUE, { type: 'Opaque' })), NOW);
    assert.equal(blocked.kind, 'Blocked');
    assert.match(blocked.message, /shop\/web-tls has type "Opaque", not kubernetes\.io\/tls/);
    const backingOff = decideAction(input(tlsSecret(DUE), BACKING_OFF), NOW);
    assert.equal(backingOff.kind, 'BackingOff');
    assert.ok(backingOff.message.includes(at(90 * MINUTE).toISOString()), backingOff.message);
  });
});
