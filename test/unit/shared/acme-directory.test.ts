/** Unit: which ACME directories are staging (their certificates are not trusted). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LETS_ENCRYPT_STAGING } from '../../../jobs/config.js';
import { isStagingDirectory } from '../../../shared/acme-directory.js';

test('staging directories are recognised, production and others are not', () => {
  const rows: [string, boolean][] = [
    [LETS_ENCRYPT_STAGING, true],
    ['https://acme-staging.api.letsencrypt.org/directory', true],
    ['https://dv.acme-v02.test-api.pki.goog/directory', true],
    ['https://ACME-STAGING.example.com/dir', true],
    ['https://ca.staging.example.com/acme/directory', true],
    ['https://acme-v02.api.letsencrypt.org/directory', false],
    ['https://dv.acme-v02.api.pki.goog/directory', false],
    ['https://127.0.0.1:14000/dir', false],
    ['https://stagingca.example.com/directory', false],
    ['not a url', false],
  ];
  for (const [url, staging] of rows) assert.equal(isStagingDirectory(url), staging, url);
});
