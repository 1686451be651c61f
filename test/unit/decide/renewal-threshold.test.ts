/** Layer: unit. The renewal threshold (jobs/decide/renewal-threshold.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renewalDueAt, renewalThresholdMs } from '../../../jobs/decide/renewal-threshold.js';
import { DAY, HOUR, MINUTE, NOW, at } from './fixtures.js';

describe('renewalThresholdMs', () => {
  const rows: { name: string; lifetime: number; minimum: number; threshold: number }[] = [
    {
      name: '90-day certificate, 720h: 30 days',
      lifetime: 90 * DAY,
      minimum: 720 * HOUR,
      threshold: 30 * DAY,
    },
    {
      name: '90-day certificate, no minimum: a third',
      lifetime: 90 * DAY,
      minimum: 0,
      threshold: 30 * DAY,
    },
    {
      name: '90-day certificate, 1 day: a third wins',
      lifetime: 90 * DAY,
      minimum: DAY,
      threshold: 30 * DAY,
    },
    {
      name: '90-day certificate, 60 days: the minimum wins',
      lifetime: 90 * DAY,
      minimum: 60 * DAY,
      threshold: 60 * DAY,
    },
    {
      name: '6-day certificate, 720h: the minimum is ignored, 2 days',
      lifetime: 6 * DAY,
      minimum: 720 * HOUR,
      threshold: 2 * DAY,
    },
    {
      name: '6-day certificate, exactly 6 days: ignored too',
      lifetime: 6 * DAY,
      minimum: 6 * DAY,
      threshold: 2 * DAY,
    },
    {
      name: '6-day certificate, 3 days: the minimum wins',
      lifetime: 6 * DAY,
      minimum: 3 * DAY,
      threshold: 3 * DAY,
    },
    {
      name: '1-hour certificate, 720h: 20 minutes',
      lifetime: HOUR,
      minimum: 720 * HOUR,
      threshold: 20 * MINUTE,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.equal(renewalThresholdMs(row.lifetime, row.minimum), row.threshold);
    });
  }
});

describe('renewalDueAt', () => {
  test('a 90-day certificate is due 30 days before notAfter', () => {
    const notAfter = at(90 * DAY);
    assert.deepEqual(renewalDueAt(NOW, notAfter, 720 * HOUR), at(60 * DAY));
  });
  test('a 6-day certificate with 720h is due 2 days before notAfter', () => {
    assert.deepEqual(renewalDueAt(NOW, at(6 * DAY), 720 * HOUR), at(4 * DAY));
  });
});
