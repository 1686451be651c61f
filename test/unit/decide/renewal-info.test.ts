/**
 * Layer: unit. ACME Renewal Information (RFC 9773): the certificate ID (jobs/decide/certificate-id.ts),
 * reading an answer, the clamp of Retry-After, the renewal time drawn once per window with an
 * injected random source, and which stored window may steer a renewal
 * (jobs/decide/renewal-window.ts); the stored format (shared/renewal-info.ts).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import forge from 'node-forge';
import { certificateId, leafCertificateId } from '../../../jobs/decide/certificate-id.js';
import {
  chooseRenewalTime,
  nextAskAt,
  parseRenewalInfo,
  recordAfterAnswer,
  recordAfterFailure,
  renewalInfoAskDue,
  usableRenewalWindow,
} from '../../../jobs/decide/renewal-window.js';
import { decodeRenewalInfo } from '../../../shared/renewal-info.js';
import { decodeStatus, encodeStatus } from '../../../shared/status-entries.js';
import { decideAction } from '../../../jobs/decide/action.js';
import { parseSecret } from '../../../jobs/decide/certificate-facts.js';
import { DAY, HOUR, MINUTE, NOW, at, certificate, desired, keyPem, secret } from './fixtures.js';

/** A certificate with the given serial (hex, as DER INTEGER contents) and AKI keyIdentifier. */
function withIdentity(
  serialHex: string,
  akiHex: string | undefined,
  validity: { notBefore: Date; notAfter: Date } = { notBefore: at(-DAY), notAfter: at(89 * DAY) },
): X509Certificate {
  const key = forge.pki.privateKeyFromPem(keyPem('rsa-a', 'legacy'));
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serialHex;
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: 'a.example' }]);
  cert.setIssuer([{ name: 'commonName', value: 'test issuer' }]);
  cert.setExtensions([
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'a.example' }] },
    ...(akiHex
      ? [{ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(akiHex) }]
      : []),
  ]);
  cert.sign(key, forge.md.sha256.create());
  return new X509Certificate(forge.pki.certificateToPem(cert));
}

describe('certificate ID (RFC 9773 §4.1)', () => {
  test('the RFC example: keyIdentifier 69:88:5B:…, serial 00:87:65:43:21 with its leading zero byte', () => {
    const cert = withIdentity('0087654321', '69885b6b87464041e1b37b847ba0ae2cde01c8d4');
    assert.equal(certificateId(cert), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    // node:crypto prints the serial without that byte; the ID must keep it.
    assert.equal(cert.serialNumber.toLowerCase(), '87654321');
  });

  test('a serial without a leading zero byte, and from a PEM chain', () => {
    const cert = withIdentity('7f01', '0102');
    assert.equal(certificateId(cert), 'AQI.fwE');
    assert.equal(
      leafCertificateId(
        cert.toString() +
          certificate({ key: 'rsa-b', dnsNames: ['ca'], notBefore: at(-DAY), notAfter: at(DAY) }),
      ),
      'AQI.fwE',
    );
  });

  test('no Authority Key Identifier: no ID', () => {
    assert.equal(certificateId(withIdentity('01', undefined)), undefined);
    assert.equal(leafCertificateId('not a certificate'), undefined);
  });
});

describe('reading a renewalInfo answer', () => {
  test('a window, with or without an explanation URL, from JSON text or an object', () => {
    assert.deepEqual(
      parseRenewalInfo(
        '{"suggestedWindow":{"start":"2025-06-10T00:00:00Z","end":"2025-06-12T00:00:00Z"}}',
      ),
      { start: new Date('2025-06-10T00:00:00Z'), end: new Date('2025-06-12T00:00:00Z') },
    );
    assert.deepEqual(
      parseRenewalInfo({
        suggestedWindow: { start: '2025-06-10T00:00:00.5Z', end: '2025-06-10T01:00:00Z' },
        explanationURL: 'https://example.com/incident',
      }),
      {
        start: new Date('2025-06-10T00:00:00.500Z'),
        end: new Date('2025-06-10T01:00:00Z'),
        explanationUrl: 'https://example.com/incident',
      },
    );
  });

  const bad: [string, unknown, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['not an object', 42, /not a JSON object/],
    ['no window', {}, /no suggestedWindow/],
    [
      'a start that is no time',
      { suggestedWindow: { start: 'soon', end: '2025-06-12T00:00:00Z' } },
      /start "soon" is not a time/,
    ],
    [
      'no end',
      { suggestedWindow: { start: '2025-06-12T00:00:00Z' } },
      /end undefined is not a time/,
    ],
    [
      'an end before the start',
      { suggestedWindow: { start: '2025-06-12T00:00:00Z', end: '2025-06-11T00:00:00Z' } },
      /no later than it starts/,
    ],
    [
      'an end equal to the start',
      { suggestedWindow: { start: '2025-06-12T00:00:00Z', end: '2025-06-12T00:00:00Z' } },
      /no later than it starts/,
    ],
  ];
  for (const [name, body, problem] of bad) {
    test(`unusable: ${name}`, () => {
      const parsed = parseRenewalInfo(body);
      assert.ok('problem' in parsed, JSON.stringify(parsed));
      assert.match(parsed.problem, problem);
    });
  }
});

describe('when to ask again: Retry-After clamped to 1 h … 7 days', () => {
  const cases: [string, Date | undefined, number][] = [
    ['6 h as sent', at(6 * HOUR), 6 * HOUR],
    ['a minute becomes an hour', at(MINUTE), HOUR],
    ['a past date becomes an hour', at(-DAY), HOUR],
    ['exactly an hour', at(HOUR), HOUR],
    ['30 days become 7', at(30 * DAY), 7 * DAY],
    ['exactly 7 days', at(7 * DAY), 7 * DAY],
    ['none: 6 h', undefined, 6 * HOUR],
  ];
  for (const [name, retryAfter, expected] of cases)
    test(name, () => {
      assert.equal(nextAskAt(retryAfter, NOW).getTime() - NOW.getTime(), expected);
    });
});

describe('the renewal time: drawn uniformly, once per window', () => {
  const window = { start: at(10 * DAY), end: at(12 * DAY) };

  test('the random value places the time in the window: 0 at the start, 0.5 halfway, never the end', () => {
    assert.deepEqual(
      chooseRenewalTime(window, () => 0),
      window.start,
    );
    assert.deepEqual(
      chooseRenewalTime(window, () => 0.5),
      at(11 * DAY),
    );
    assert.ok(chooseRenewalTime(window, () => 0.999999999).getTime() < window.end.getTime());
    assert.ok(chooseRenewalTime(window, () => 1).getTime() < window.end.getTime());
  });

  test('asked again about the same window: the stored time is kept, not drawn again', () => {
    let draws = 0;
    const random = () => {
      draws++;
      return draws === 1 ? 0.25 : 0.75;
    };
    const first = recordAfterAnswer(undefined, 'id.1', window, at(6 * HOUR), NOW, random);
    assert.equal(first.renewAt, at(10.5 * DAY).toISOString());
    assert.equal(first.nextAskAt, at(6 * HOUR).toISOString());
    const later = at(7 * HOUR);
    const second = recordAfterAnswer(first, 'id.1', window, at(6 * HOUR, later), later, random);
    assert.equal(second.renewAt, first.renewAt);
    assert.equal(draws, 1);
    assert.equal(second.nextAskAt, at(13 * HOUR).toISOString());
  });

  test('a changed window, or another certificate, draws anew', () => {
    const random = () => 0.5;
    const first = recordAfterAnswer(undefined, 'id.1', window, undefined, NOW, () => 0);
    const moved = { start: at(1 * DAY), end: at(2 * DAY) };
    assert.equal(
      recordAfterAnswer(first, 'id.1', moved, undefined, NOW, random).renewAt,
      at(1.5 * DAY).toISOString(),
    );
    assert.equal(
      recordAfterAnswer(first, 'id.2', window, undefined, NOW, random).renewAt,
      at(11 * DAY).toISOString(),
    );
  });
});

describe('asking and using a stored record', () => {
  const record = recordAfterAnswer(
    undefined,
    'id.1',
    { start: at(10 * DAY), end: at(12 * DAY), explanationUrl: 'https://e.example/x' },
    at(6 * HOUR),
    NOW,
    () => 0.5,
  );

  test('asked when nothing is stored, when the record is about another certificate, or once the next-ask time has come', () => {
    assert.equal(renewalInfoAskDue(undefined, 'id.1', NOW), true);
    assert.equal(renewalInfoAskDue(record, 'id.2', NOW), true);
    assert.equal(renewalInfoAskDue(record, 'id.1', at(5 * HOUR)), false);
    assert.equal(renewalInfoAskDue(record, 'id.1', at(6 * HOUR)), true);
  });

  test('a usable window steers only the certificate it is about, and only if it ends by notAfter', () => {
    assert.deepEqual(usableRenewalWindow(record, 'id.1', at(30 * DAY)), {
      start: at(10 * DAY),
      end: at(12 * DAY),
      renewAt: at(11 * DAY),
      explanationUrl: 'https://e.example/x',
    });
    assert.equal(usableRenewalWindow(record, 'id.2', at(30 * DAY)), undefined);
    assert.equal(usableRenewalWindow(record, undefined, at(30 * DAY)), undefined);
    assert.equal(
      usableRenewalWindow(record, 'id.1', at(11 * DAY)),
      undefined,
      'ends after notAfter',
    );
    assert.equal(usableRenewalWindow(undefined, 'id.1', at(30 * DAY)), undefined);
  });

  test('a failed ask: no window (the lifetime rule), asked again in an hour', () => {
    const failed = recordAfterFailure('id.1', 'answered 500', NOW);
    assert.deepEqual(failed, {
      certificateId: 'id.1',
      nextAskAt: at(HOUR).toISOString(),
      error: 'answered 500',
    });
    assert.equal(usableRenewalWindow(failed, 'id.1', at(30 * DAY)), undefined);
    assert.equal(renewalInfoAskDue(failed, 'id.1', at(59 * MINUTE)), false);
  });

  test('stored in the status entry and read back; a damaged record is dropped, not the entry', () => {
    const entry = {
      namespace: 'ns',
      secretName: 's',
      ingresses: [],
      hosts: ['a.example'],
      notAfter: at(30 * DAY).toISOString(),
      result: 'Valid' as const,
      reason: 'UpToDate',
      message: '',
      checkedAt: NOW.toISOString(),
      failures: 0,
    };
    const run = {
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      result: 'Succeeded' as const,
      entries: 1,
      issued: 0,
      renewed: 0,
      valid: 1,
      skipped: 0,
      failed: 0,
    };
    const round = decodeStatus(encodeStatus([{ ...entry, renewalInfo: record }], run));
    assert.deepEqual(round.certificates[0]?.renewalInfo, record);
    const damaged = decodeStatus(
      encodeStatus([{ ...entry, renewalInfo: { certificateId: 'x', nextAskAt: 'soon' } }], run),
    );
    assert.equal(damaged.certificates.length, 1);
    assert.equal(damaged.certificates[0]?.renewalInfo, undefined);
    assert.equal(
      decodeRenewalInfo({
        certificateId: 'x',
        nextAskAt: NOW.toISOString(),
        windowStart: NOW.toISOString(),
      })?.windowStart,
      undefined,
      'a window without its drawn time is dropped',
    );
  });
});

describe('the decision with a window', () => {
  // 29 days left of 90: due by the lifetime rule (720h).
  const cert = withIdentity('00ff01', 'aabbcc', {
    notBefore: at(-61 * DAY),
    notAfter: at(29 * DAY),
  });
  const id = certificateId(cert)!;
  const decide = (renewalInfo: Parameters<typeof decideAction>[0]['renewalInfo']) =>
    decideAction(
      {
        certificate: desired(['a.example']),
        secret: parseSecret(
          secret({ data: { 'tls.crt': cert.toString(), 'tls.key': keyPem('rsa-a') } }),
        ),
        previous: undefined,
        ...(renewalInfo ? { renewalInfo } : {}),
        directoryUrl: 'https://acme.example/dir',
        keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
        minimumValidityMs: 720 * HOUR,
      },
      NOW,
    );
  const window = (renewAt: Date) =>
    recordAfterAnswer(
      undefined,
      id,
      { start: at(-DAY), end: at(2 * DAY) },
      undefined,
      NOW,
      () => (renewAt.getTime() - at(-DAY).getTime()) / (3 * DAY),
    );

  test('before the drawn time: valid, although the lifetime rule would renew', () => {
    assert.equal(decide(window(at(1 * DAY))).kind, 'Valid');
  });
  test('at the drawn time: RenewalWindowReached', () => {
    const action = decide(window(at(-HOUR)));
    assert.equal(action.kind === 'Issue' && action.reason, 'RenewalWindowReached');
  });
  test('no window, a failed ask, or a record about another certificate: the lifetime rule', () => {
    for (const record of [
      undefined,
      recordAfterFailure(id, 'answered 500', NOW),
      { ...window(at(1 * DAY)), certificateId: 'other.id' },
    ]) {
      const action = decide(record);
      assert.equal(action.kind === 'Issue' && action.reason, 'RenewalDue', JSON.stringify(record));
    }
  });
});
