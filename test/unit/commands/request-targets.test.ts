/** Layer: unit. Which certificates `retry` and `renew` leave a request for (request-targets.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectRequestTargets } from '../../../jobs/commands/request-targets.js';
import type { CertificateStatus } from '../../../shared/status-entries.js';
import { status } from '../decide/fixtures.js';

const FAILING = status({ secretName: 'bad-tls', ingresses: ['shop/bad'], failures: 2 });
const VALID = status({
  secretName: 'ok-tls',
  ingresses: ['shop/ok'],
  result: 'Valid',
  failures: 0,
});
const INVALID = status({
  secretName: 'wild-tls',
  ingresses: ['shop/wild'],
  result: 'Invalid',
  reason: 'WildcardHost',
  message: 'no wildcards',
  failures: 0,
});
const GATEWAY_ONLY = status({ secretName: 'gw-tls', ingresses: ['Gateway:shop/gw'], failures: 1 });
const ALL: CertificateStatus[] = [FAILING, VALID, INVALID, GATEWAY_ONLY];
const one = (secretName: string) => ({ certificate: { namespace: 'shop', secretName } });

const rows: {
  kind: 'retry' | 'renew';
  scope: Parameters<typeof selectRequestTargets>[1];
  targets: string[];
  refusals: { certificate: string; harmless: boolean; match: RegExp }[];
}[] = [
  { kind: 'retry', scope: one('bad-tls'), targets: ['shop/bad-tls'], refusals: [] },
  {
    kind: 'retry',
    scope: one('ok-tls'),
    targets: [],
    refusals: [
      { certificate: 'shop/ok-tls', harmless: true, match: /not failing.*nothing to retry/ },
    ],
  },
  {
    kind: 'retry',
    scope: one('gone-tls'),
    targets: [],
    refusals: [
      {
        certificate: 'shop/gone-tls',
        harmless: false,
        match: /no certificate shop\/gone-tls in the status/,
      },
    ],
  },
  { kind: 'retry', scope: { all: true }, targets: ['shop/bad-tls', 'shop/gw-tls'], refusals: [] },
  { kind: 'renew', scope: one('ok-tls'), targets: ['shop/ok-tls'], refusals: [] },
  {
    kind: 'renew',
    scope: one('wild-tls'),
    targets: [],
    refusals: [{ certificate: 'shop/wild-tls', harmless: false, match: /invalid \(WildcardHost/ }],
  },
  {
    kind: 'renew',
    scope: { all: true },
    targets: ['shop/bad-tls', 'shop/ok-tls', 'shop/gw-tls'],
    refusals: [],
  },
];

for (const row of rows) {
  test(`${row.kind} ${'all' in row.scope ? '--all' : `${row.scope.certificate.namespace}/${row.scope.certificate.secretName}`}`, () => {
    const { targets, refusals } = selectRequestTargets(row.kind, row.scope, ALL);
    assert.deepEqual(
      targets.map((t) => `${t.namespace}/${t.secretName}`),
      row.targets,
    );
    assert.deepEqual(
      refusals.map((r) => ({ certificate: r.certificate, harmless: r.harmless })),
      row.refusals.map(({ certificate, harmless }) => ({ certificate, harmless })),
    );
    for (const [i, r] of row.refusals.entries()) assert.match(refusals[i]?.message ?? '', r.match);
  });
}
