/**
 * Keeps README.md in step with the code: every setting in the settings table, every reason of
 * the decision chain in the "When is a certificate (re)issued" list, in the chain's order.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobSettings } from '../../jobs/config.js';
import { CERTIFICATE_CHECKS } from '../../jobs/decide/certificate-checks.js';
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
  const source = readFileSync(join(root, 'jobs', 'decide', 'certificate-checks.ts'), 'utf8');
  const reasons: string[] = [];
  // Each check's body, in chain order, names its reason(s) as `reason: 'X'`.
  for (const { name } of CERTIFICATE_CHECKS) {
    const body = source.slice(source.indexOf(`export const ${name}`));
    const end = body.indexOf('\nexport ', 1);
    for (const match of body.slice(0, end).matchAll(/reason: '(\w+)'/g)) {
      if (!reasons.includes(match[1]!)) reasons.push(match[1]!);
    }
  }
  assert.equal(reasons.length, CERTIFICATE_CHECKS.length, 'one reason per check');
  const positions = reasons.map((r) => list.indexOf(`\`${r}\``));
  for (const [i, r] of reasons.entries())
    assert.ok(positions[i]! >= 0, `${r} is in the README list`);
  assert.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
    'in the chain’s order',
  );
  for (const extra of ['SecretTypeMismatch', 'BackingOff', 'UpToDate'])
    assert.ok(list.includes(extra));
});
