/**
 * Layer: unit. Keeps README.md in step with the code: every setting in the settings table, every
 * reason of the decision chain in the "When is a certificate (re)issued" list, in the chain's
 * order, and every other reason (jobs/decide/reasons.ts) somewhere in the README.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobSettings } from '../../jobs/config.js';
import { CERTIFICATE_CHECKS } from '../../jobs/decide/certificate-checks.js';
import { RUN_FAILURE_REASONS } from '../../jobs/decide/failure-class.js';
import { ALL_REASONS, HOLD_REASONS, NEED_REASONS } from '../../jobs/decide/reasons.js';
import { responderSettings } from '../../responder/settings.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = readme.indexOf('\n## ', start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('every setting of the job and the responder is in the README table', () => {
  const table = section('Settings');
  for (const spec of [...Object.values(jobSettings), ...Object.values(responderSettings)]) {
    assert.ok(table.includes(`\`${spec.env}\``), `${spec.env} is documented`);
    for (const alias of spec.aliases ?? [])
      assert.ok(table.includes(alias), `${alias} is documented`);
  }
});

test('the (re)issue list names every reason of the check chain, in the chain’s order', () => {
  const list = section('When is a certificate (re)issued');
  const reasons = CERTIFICATE_CHECKS.map((c) => c.reason);
  assert.deepEqual(reasons, [...NEED_REASONS], 'the chain gives the reasons NEED_REASONS lists');
  const positions = reasons.map((r) => list.indexOf(`\`${r}\``));
  for (const [i, r] of reasons.entries())
    assert.ok(positions[i]! >= 0, `${r} is in the README list`);
  assert.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
    'in the chain’s order',
  );
  for (const held of HOLD_REASONS)
    assert.ok(list.includes(`\`${held}\``), `${held} is in the list`);
});

test('every stable reason the job gives is named in the README', () => {
  for (const reason of ALL_REASONS)
    assert.ok(readme.includes(`\`${reason}\``), `${reason} is in the README`);
});

test('the failure path’s reasons are named in the README too', () => {
  // SecretWriteRefused is a certificate's failure (failure-class.ts); the others end the run.
  for (const reason of ['SecretWriteRefused', ...Object.values(RUN_FAILURE_REASONS)])
    assert.ok(readme.includes(`\`${reason}\``), `${reason} is in the README`);
});
