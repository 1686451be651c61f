/**
 * Layer: unit. The setting warnings about profiles and lifetimes
 * (jobs/decide/profile-lifetime.ts): which lifetime counts, and when `plan` and a run warn.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  planSettingWarnings,
  profileLifetime,
  settingWarnings,
} from '../../../jobs/decide/profile-lifetime.js';
import { parseSecret } from '../../../jobs/decide/certificate-facts.js';
import { SECRET_ANNOTATIONS } from '../../../jobs/tls-secret.js';
import { DAY, HOUR, at, tlsSecret } from './fixtures.js';

const DIRECTORY = 'https://acme.example/directory';

describe('profileLifetime', () => {
  const stored = (
    days: number,
    issuedDaysAgo: number,
    directoryUrl: string | undefined = DIRECTORY,
  ) => ({
    notBefore: at(-issuedDaysAgo * DAY),
    notAfter: at((days - issuedDaysAgo) * DAY - 1000),
    directoryUrl,
  });

  test('the newest certificate from this directory decides', () => {
    const lifetime = profileLifetime('classic', DIRECTORY, [
      stored(90, 30),
      stored(6, 1),
      stored(2, 0, 'https://other.example/directory'),
      { ...stored(1, 0), directoryUrl: undefined },
    ]);
    assert.equal(lifetime?.lifetimeMs, 6 * DAY);
    assert.match(lifetime?.source ?? '', /newest certificate from this directory lives 144h/);
  });

  test("without one, Let's Encrypt's lifetime of the profile; else unknown", () => {
    assert.equal(profileLifetime('tlsserver', DIRECTORY, [])?.lifetimeMs, 45 * DAY);
    assert.equal(profileLifetime('shortlived', DIRECTORY, [])?.lifetimeMs, 160 * HOUR);
    assert.equal(profileLifetime('classic', DIRECTORY, [])?.lifetimeMs, 90 * DAY);
    assert.equal(profileLifetime('', DIRECTORY, []), undefined);
    assert.equal(profileLifetime('custom', DIRECTORY, []), undefined);
  });
});

describe('settingWarnings', () => {
  const base = {
    profile: 'shortlived',
    advertisedProfiles: ['classic', 'shortlived', 'tlsserver'],
    minimumValidityMs: 720 * HOUR,
    lifetime: undefined,
  };

  test('nothing when the profile is advertised and the lifetime unknown', () => {
    assert.deepEqual(settingWarnings(base), []);
  });

  test('a profile the directory does not list', () => {
    const warnings = settingWarnings({ ...base, profile: 'nope' });
    assert.deepEqual(
      warnings.map((w) => w.reason),
      ['ProfileNotAdvertised'],
    );
    assert.match(warnings[0]?.message ?? '', /"nope".*classic, shortlived, tlsserver/);
  });

  test('no profile named, or a directory without profiles: nothing said about the name', () => {
    assert.deepEqual(settingWarnings({ ...base, profile: '' }), []);
    assert.deepEqual(
      settingWarnings({ ...base, profile: 'nope', advertisedProfiles: undefined }),
      [],
    );
  });

  test('a minimum validity not shorter than the lifetime: the one-third rule, said once', () => {
    const lifetime = { lifetimeMs: 160 * HOUR, source: 'x' };
    const warnings = settingWarnings({ ...base, lifetime });
    assert.deepEqual(
      warnings.map((w) => w.reason),
      ['MinimumValidityNotShorterThanLifetime'],
    );
    assert.match(
      warnings[0]?.message ?? '',
      /\(720h0m0s\).*third of their lifetime left \(53h20m0s\)/,
    );
    assert.deepEqual(settingWarnings({ ...base, lifetime, minimumValidityMs: 160 * HOUR - 1 }), []);
    assert.equal(settingWarnings({ ...base, lifetime, minimumValidityMs: 160 * HOUR }).length, 1);
  });

  test("planSettingWarnings reads the stored certificates' lifetimes", () => {
    const secret = tlsSecret(
      { key: 'rsa-a', dnsNames: ['a.example'], notBefore: at(-HOUR), notAfter: at(5 * DAY) },
      { annotations: { [SECRET_ANNOTATIONS.directoryUrl]: DIRECTORY } },
    );
    const parsed = parseSecret(secret);
    const warnings = planSettingWarnings(
      {
        decisions: [{ facts: parsed.facts, secret }],
        directoryUrl: DIRECTORY,
        minimumValidityMs: 720 * HOUR,
      },
      '',
      undefined,
    );
    assert.deepEqual(
      warnings.map((w) => w.reason),
      ['MinimumValidityNotShorterThanLifetime'],
    );
  });
});
