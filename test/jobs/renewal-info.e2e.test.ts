/**
 * Layer: e2e. ACME Renewal Information (RFC 9773) end to end: the job as its own process (as the
 * CronJob runs it), the real responder process, the real kube-apiserver, and Pebble, whose
 * renewalInfo endpoint suggests a window around two thirds of a certificate's life and lets a
 * test set any answer through its management interface (`/set-renewal-info/`). Simulated time:
 * KUBE_LEGO_TEST_CLOCK_OFFSET; the renewal time drawn in a window is fixed with
 * KUBE_LEGO_TEST_RANDOM.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { certificateId } from '../../jobs/decide/certificate-id.js';
import { decodeStatus, type CertificateStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, claimPort, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, type JobResult } from '../support/job-process.js';
import { startPebbleResponder, stopPebbleResponder } from '../support/pebble-responder.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);

after(stopPebbleResponder);

interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
}

async function scene(name: string, host: string, url?: string): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  await startPebbleResponder(lego);
  await networking.createNamespacedIngress({
    namespace: app,
    body: annotatedIngress('web', [{ hosts: [host], secretName: 'web-tls' }]),
  });
  return {
    lego,
    app,
    env: (extra = {}) =>
      jobEnv(lego, {
        LEGO_WATCH_NAMESPACE: app,
        KUBE_LEGO_TEST_HOOKS: 'enabled',
        ...(url ? { LEGO_URL: url } : {}),
        ...extra,
      }),
  };
}

/** The job's clock set to `instant` (a Go duration offset from the real now, in seconds). */
function clockAt(instant: number): Record<string, string> {
  return { KUBE_LEGO_TEST_CLOCK_OFFSET: `${Math.round((instant - Date.now()) / 1000)}s` };
}

async function entry(lego: string): Promise<CertificateStatus> {
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  const found = decodeStatus(cm.data).certificates.find((c) => c.secretName === 'web-tls');
  assert.ok(found, 'a status entry for web-tls');
  return found;
}

async function leaf(app: string): Promise<X509Certificate> {
  const secret = await readSecret(app, 'web-tls');
  const pem = Buffer.from(secret!.data!['tls.crt']!, 'base64').toString('utf8');
  return new X509Certificate(
    /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)![0],
  );
}

function decisionReasons(result: JobResult): unknown[] {
  return result.logs.filter((l) => typeof l.decision === 'string').map((l) => l.reason);
}

/** Sets Pebble's renewalInfo answer for a certificate (its management interface). */
async function setPebbleRenewalInfo(cert: X509Certificate, answer: unknown): Promise<void> {
  const env = testEnv();
  const body = JSON.stringify({
    Certificate: cert.toString(),
    ARIResponse: JSON.stringify(answer),
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      `${env.pebble.managementUrl}/set-renewal-info/`,
      {
        method: 'POST',
        ca: readFileSync(env.caFile),
        headers: { 'content-type': 'application/json', 'user-agent': 'renewal-info-test' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(status, 200, 'Pebble took the renewalInfo answer');
}

describe('ARI windows steer renewal', () => {
  test('a window that has opened: renewed naming the replaced certificate; a new certificate is asked about by the next run, then not until its Retry-After', async () => {
    const s = await scene('ari-open', 'open.ari.example');
    const first = await runJob(s.env());
    assertExit(first, 0);
    const old = await leaf(s.app);
    const oldId = certificateId(old);
    assert.ok(oldId, 'Pebble certificates carry an Authority Key Identifier');
    assert.equal(
      (await entry(s.lego)).renewalInfo,
      undefined,
      'not asked about in the run that issued it',
    );
    const asking = await runJob(s.env());
    assertExit(asking, 0);
    assert.deepEqual(decisionReasons(asking), ['UpToDate']);
    assert.equal(
      asking.summary?.acmeRequests,
      2,
      'the next run asks: the directory and one renewalInfo GET, nothing else',
    );
    const stored = await entry(s.lego);
    // Pebble's window around two thirds of the 90 days, 6 h Retry-After.
    assert.equal(stored.renewalInfo?.certificateId, oldId);
    assert.ok(stored.renewalInfo?.windowStart && stored.renewalInfo.renewAt);
    const notAfter = Date.parse(old.validTo);
    const renewAt = Date.parse(stored.renewalInfo.renewAt);
    assert.ok(
      renewAt > notAfter - 32 * 86400_000 && renewAt < notAfter - 28 * 86400_000,
      stored.renewalInfo.renewAt,
    );
    assert.equal(stored.renewalAt, stored.renewalInfo.renewAt, 'the renewal time metrics show');
    const askIn = Date.parse(stored.renewalInfo.nextAskAt) - Date.now();
    assert.ok(askIn > 5 * 3600_000 && askIn <= 6 * 3600_000, `next ask in about 6 h (${askIn} ms)`);

    const quiet = await runJob(s.env());
    assertExit(quiet, 0);
    assert.equal(
      quiet.summary?.acmeRequests,
      0,
      'within the next-ask time: no renewalInfo request',
    );

    // The server moves the window into the past (as Let's Encrypt does before a revocation).
    await setPebbleRenewalInfo(old, {
      suggestedWindow: {
        start: new Date(Date.now() - 2 * 3600_000).toISOString(),
        end: new Date(Date.now() - 3600_000).toISOString(),
      },
      explanationURL: 'https://incident.example/ari',
    });
    const later = Date.now() + 7 * 3600_000;
    const renewal = await runJob(s.env(clockAt(later)));
    assertExit(renewal, 0);
    assert.deepEqual(decisionReasons(renewal), ['RenewalWindowReached']);
    assert.equal(renewal.summary?.renewed, 1);
    const created = renewal.logs.find((l) => l.msg === 'order created');
    assert.equal(created?.replaces, oldId, 'the order names the certificate it replaces');
    const orderId = String(created?.order).split('/').pop();
    const pebbleLog = readFileSync(join(testEnv().dir, 'pebble.log'), 'utf8');
    assert.match(
      pebbleLog,
      new RegExp(`ARI: order "${orderId}" is a replacement of`),
      'Pebble took it as a replacement',
    );
    const renewed = await assertValidTlsSecret(await readSecret(s.app, 'web-tls'), [
      'open.ari.example',
    ]);
    assert.notEqual(renewed.serialNumber, old.serialNumber);
    assert.equal(
      (await entry(s.lego)).renewalInfo,
      undefined,
      "the replaced certificate's record is dropped",
    );

    const next = await runJob(s.env(clockAt(later + 60_000)));
    assertExit(next, 0);
    assert.deepEqual(decisionReasons(next), ['UpToDate']);
    assert.equal(next.summary?.acmeRequests, 2, 'the run after the renewal asks about the new one');
    assert.equal(
      (await entry(s.lego)).renewalInfo?.certificateId,
      certificateId(await leaf(s.app)),
      'the new certificate was asked about',
    );
    const quieter = await runJob(s.env(clockAt(later + 120_000)));
    assertExit(quieter, 0);
    assert.equal(quieter.summary?.acmeRequests, 0, 'and then no ACME request');
  });

  test('before the drawn time: not renewed although the lifetime rule would, and the time is drawn once per window', async () => {
    const s = await scene('ari-once', 'once.ari.example');
    assertExit(await runJob(s.env({ KUBE_LEGO_TEST_RANDOM: '0.9' })), 0);
    // Issued, then asked about by the next run.
    assertExit(await runJob(s.env({ KUBE_LEGO_TEST_RANDOM: '0.9' })), 0);
    const cert = await leaf(s.app);
    const notAfter = Date.parse(cert.validTo);
    const stored = (await entry(s.lego)).renewalInfo;
    assert.ok(stored?.renewAt && stored.windowStart && stored.windowEnd);
    const start = Date.parse(stored.windowStart);
    const end = Date.parse(stored.windowEnd);
    const renewAt = Date.parse(stored.renewAt);
    assert.equal(renewAt, start + Math.floor(0.9 * (end - start)), 'drawn at 0.9 of the window');
    // 29.5 days before notAfter: the lifetime rule (720h) would renew, the drawn time has not come.
    const inside = notAfter - 29.5 * 86400_000;
    assert.ok(inside > start && inside < renewAt);

    const first = await runJob(s.env({ ...clockAt(inside), KUBE_LEGO_TEST_RANDOM: '0.1' }));
    assertExit(first, 0);
    assert.deepEqual(decisionReasons(first), ['UpToDate']);
    assert.equal(
      first.summary?.acmeRequests,
      2,
      'the next-ask time had come: the directory and one renewalInfo GET, nothing else',
    );
    const asked = (await entry(s.lego)).renewalInfo;
    assert.equal(
      asked?.renewAt,
      stored.renewAt,
      'same window: the drawn time is kept, not drawn again',
    );

    const soon = await runJob(
      s.env({ ...clockAt(inside + 3600_000), KUBE_LEGO_TEST_RANDOM: '0.1' }),
    );
    assertExit(soon, 0);
    assert.deepEqual(decisionReasons(soon), ['UpToDate']);
    assert.equal(soon.summary?.acmeRequests, 0, 'within the next-ask time: no renewalInfo request');
    assert.equal((await entry(s.lego)).renewalInfo?.renewAt, stored.renewAt);

    const due = await runJob(s.env(clockAt(renewAt + 60_000)));
    assertExit(due, 0);
    assert.deepEqual(decisionReasons(due), ['RenewalWindowReached']);
    assert.equal(due.summary?.renewed, 1);
  });
});

describe('ARI failing', () => {
  /**
   * A directory in front of Pebble whose renewalInfo URL points back here and answers 500;
   * every other URL of the directory is Pebble's own.
   */
  async function brokenRenewalInfo(): Promise<{
    url: string;
    asked: () => number;
    server: Server;
  }> {
    const port = claimPort();
    let asked = 0;
    const pebble = testEnv().pebble.directoryUrl;
    const ca = readFileSync(testEnv().caFile);
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/renewalInfo/')) {
        asked++;
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'urn:ietf:params:acme:error:serverInternal',
            detail: 'ARI is down',
            status: 500,
          }),
        );
        return;
      }
      httpsRequest(pebble, { ca, headers: { 'user-agent': 'renewal-info-test' } }, (upstream) => {
        let body = '';
        upstream.setEncoding('utf8').on('data', (c: string) => (body += c));
        upstream.on('end', () => {
          const directory = JSON.parse(body) as Record<string, unknown>;
          directory.renewalInfo = `http://127.0.0.1:${port}/renewalInfo`;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(directory));
        });
      })
        .on('error', () => {
          res.writeHead(502).end();
        })
        .end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${port}/dir`, asked: () => asked, server };
  }

  test('the renewalInfo endpoint answering 500: nothing fails, and the lifetime rule renews as before', async () => {
    const proxy = await brokenRenewalInfo();
    try {
      const s = await scene('ari-down', 'down.ari.example', proxy.url);
      const first = await runJob(s.env());
      assertExit(first, 0);
      assert.equal(first.summary?.issued, 1);
      assert.equal(proxy.asked(), 0, 'not asked in the run that issued it');
      const asking = await runJob(s.env());
      assertExit(asking, 0);
      assert.equal(proxy.asked(), 1, 'asked once by the next run');
      const stored = await entry(s.lego);
      assert.match(stored.renewalInfo?.error ?? '', /500/);
      assert.equal(stored.renewalInfo?.windowStart, undefined);
      const cert = await leaf(s.app);
      const notAfter = Date.parse(cert.validTo);
      // 29 days before notAfter: due by the lifetime rule (720h).
      const due = await runJob(s.env(clockAt(notAfter - 29 * 86400_000)));
      assertExit(due, 0);
      assert.equal(
        proxy.asked(),
        2,
        'asked again once the hour had passed; not about the new certificate in the same run',
      );
      assert.deepEqual(decisionReasons(due), ['RenewalDue']);
      assert.equal(due.summary?.renewed, 1);
      assert.ok(
        due.logs.some((l) => l.msg === 'no renewal information; the lifetime rule applies'),
      );
    } finally {
      proxy.server.close();
    }
  });
});
