/** The A-label check gives one answer on every Node (jobs/decide/a-label.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePunycode, isBadALabel } from '../../../jobs/decide/a-label.js';

test('decodes the sample strings of RFC 3492 §7.1', () => {
  // (A) Arabic (Egyptian), (B) Chinese (simplified), (L) 3<nen>B<gumi><kinpachi><sensei>.
  assert.equal(
    decodePunycode('egbpdaj6bu4bxfgehfvwxn'),
    '\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F',
  );
  assert.equal(
    decodePunycode('ihqwcrb4cv8a8dqg056pqjye'),
    '\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587',
  );
  assert.equal(
    decodePunycode('3B-ww4c5e180e575a65lsy2b'.toLowerCase()),
    '3\u5E74b\u7D44\u91D1\u516B\u5148\u751F',
  );
});

test('refuses what is not Punycode', () => {
  assert.equal(decodePunycode('zz'), undefined, 'a truncated number');
  assert.equal(decodePunycode('a!'), undefined, 'a character that is not a digit');
  assert.equal(decodePunycode('99999999999'), undefined, 'beyond the last code point');
});

test('valid A-labels pass, bad ones are named, other labels are not its business', () => {
  assert.equal(isBadALabel('xn--bcher-kva'), false); // bücher
  assert.equal(isBadALabel('xn--zz'), true);
  assert.equal(isBadALabel('xn--abc-'), true, 'encodes only ASCII');
  assert.equal(isBadALabel('xn--a'), true, 'encodes U+0080, which IDNA disallows');
  assert.equal(
    isBadALabel('xn--bcher-2pa'),
    true,
    'encodes "bÜcher", whose A-label is xn--bcher-kva',
  );
  assert.equal(isBadALabel('www'), false);
  assert.equal(isBadALabel('xn-ok'), false);
});
