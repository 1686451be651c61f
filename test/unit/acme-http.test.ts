/** Layer: unit. Retry-After parsing of the ACME HTTP layer (jobs/acme/acme-http.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRetryAfter } from '../../jobs/acme/acme-http.js';

const NOW = new Date('2025-06-01T00:00:00Z');

function iso(value: unknown): string | undefined {
  return parseRetryAfter(value, NOW)?.toISOString();
}

describe('parseRetryAfter (RFC 9110 §10.2.3: delay-seconds or an HTTP-date)', () => {
  test('delay-seconds count from now', () => {
    assert.equal(iso('120'), '2025-06-01T00:02:00.000Z');
    assert.equal(iso(' 3600 '), '2025-06-01T01:00:00.000Z');
    assert.equal(iso('0'), NOW.toISOString());
    assert.equal(iso('86400'), '2025-06-02T00:00:00.000Z');
  });

  test('an IMF-fixdate is read as it is, whatever now is', () => {
    assert.equal(iso('Wed, 21 Oct 2015 07:28:00 GMT'), '2015-10-21T07:28:00.000Z');
    assert.equal(iso('Sun, 01 Jun 2025 03:00:00 GMT'), '2025-06-01T03:00:00.000Z');
  });

  test('the obsolete RFC 850 and asctime forms are read too, as GMT (RFC 9110 §5.6.7)', () => {
    const tz = process.env.TZ;
    // asctime has no zone and means GMT: the local time zone must not shift it.
    process.env.TZ = 'America/New_York';
    try {
      assert.equal(iso('Sunday, 06-Nov-94 08:49:37 GMT'), '1994-11-06T08:49:37.000Z');
      assert.equal(iso('Sun Nov  6 08:49:37 1994'), '1994-11-06T08:49:37.000Z');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  test('empty or missing values give undefined', () => {
    for (const value of ['', '   ', undefined, null]) assert.equal(iso(value), undefined);
  });

  test('values that are not strings (a parsed header is always one) give undefined', () => {
    for (const value of [120, ['120'], { seconds: 120 }]) assert.equal(iso(value), undefined);
  });

  test('garbage gives undefined, also what a lenient date parser would read as a date', () => {
    for (const value of [
      'soon',
      'tomorrow',
      '12abc',
      '3600s',
      '-10', // not delay-seconds (1*DIGIT); Date reads it as October 2001, local time
      '1.5', // not delay-seconds; Date reads it as 5 January 2001
      '120.0',
      '2025-06-01', // ISO 8601 is not an HTTP-date
      'Wed, 32 Oct 2015 07:28:00 GMT',
    ]) {
      assert.equal(iso(value), undefined, value);
    }
  });
});
