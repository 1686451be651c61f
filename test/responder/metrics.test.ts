/**
 * The metrics: the Prometheus text format (escaping included), the responder's own counters, the
 * gauges made from the status ConfigMap, and the metrics port's app.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import {
  encodeStatus,
  type CertificateStatus,
  type RunStatus,
} from '../../shared/status-entries.js';
import { createMetricsApp } from '../../responder/metrics-app.js';
import { ResponderMetrics } from '../../responder/metrics.js';
import {
  escapeLabelValue,
  formatFamilies,
  PROMETHEUS_CONTENT_TYPE,
} from '../../responder/prometheus-text.js';
import { JobStatusView } from '../../responder/job-status-view.js';
import { send } from './http-request.js';

const certificate = (overrides: Partial<CertificateStatus>): CertificateStatus => ({
  namespace: 'shop',
  secretName: 'web-tls',
  ingresses: ['shop/web'],
  hosts: ['shop.example.com'],
  notAfter: '2027-02-01T00:00:00.000Z',
  result: 'Valid',
  reason: 'CertificateIsValid',
  message: 'fine',
  checkedAt: '2026-11-01T00:00:00.000Z',
  failures: 0,
  ...overrides,
});

const RUN: RunStatus = {
  startedAt: '2026-11-01T00:00:00.000Z',
  finishedAt: '2026-11-01T00:00:30.000Z',
  result: 'Failed',
  entries: 3,
  issued: 0,
  renewed: 0,
  valid: 1,
  skipped: 0,
  failed: 1,
};

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus text', () => {
  test('label values escape backslash, double quote and line feed', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    const text = formatFamilies([
      {
        name: 'm',
        help: 'line one\nline two \\ end',
        type: 'gauge',
        samples: [{ labels: { x: 'say "hi"\n' }, value: 1 }, { value: NaN }],
      },
    ]);
    assert.equal(
      text,
      '# HELP m line one\\nline two \\\\ end\n# TYPE m gauge\nm{x="say \\"hi\\"\\n"} 1\nm NaN\n',
    );
  });
});

describe('ResponderMetrics', () => {
  test('counts requests by result, refusals, restarts; reports tokens, readiness and sync time', () => {
    let ready = false;
    const metrics = new ResponderMetrics(
      {
        challenges: { size: 3, malformedCount: 1 },
        status: { certificates: [], run: undefined, malformedCount: 0 },
        isReady: () => ready,
      },
      1_700_000_000,
    );
    let text = metrics.render();
    // Every result is there from the start, at zero.
    for (const result of ['served', 'not_found', 'wrong_host', 'bad_token', 'method_not_allowed']) {
      assert.equal(sample(text, `kube_lego_responder_requests_total{result="${result}"}`), 0);
    }
    assert.equal(sample(text, 'kube_lego_responder_ready'), 0);
    assert.equal(
      sample(text, 'kube_lego_responder_last_sync_timestamp_seconds{configmap="challenge"}'),
      undefined,
      'no sync time before a sync',
    );
    metrics.countRequest('served');
    metrics.countRequest('served');
    metrics.countRequest('wrong_host');
    metrics.countRejected('header_overflow');
    metrics.countShed('evicted');
    metrics.countWatchRestart('challenge', 'expired');
    metrics.countWatchRestart('status', 'error');
    metrics.markSynced('challenge', new Date('2026-11-30T10:00:00.500Z'));
    ready = true;
    text = metrics.render();
    assert.equal(sample(text, 'kube_lego_responder_requests_total{result="served"}'), 2);
    assert.equal(sample(text, 'kube_lego_responder_requests_total{result="wrong_host"}'), 1);
    assert.equal(
      sample(text, 'kube_lego_responder_rejected_requests_total{reason="header_overflow"}'),
      1,
    );
    assert.equal(sample(text, 'kube_lego_responder_shed_connections_total{reason="evicted"}'), 1);
    assert.equal(sample(text, 'kube_lego_responder_shed_connections_total{reason="refused"}'), 0);
    assert.equal(sample(text, 'kube_lego_responder_tokens'), 3);
    assert.equal(sample(text, 'kube_lego_responder_malformed_entries{configmap="challenge"}'), 1);
    assert.equal(sample(text, 'kube_lego_responder_ready'), 1);
    assert.equal(
      sample(
        text,
        'kube_lego_responder_watch_restarts_total{configmap="challenge",reason="expired"}',
      ),
      1,
    );
    assert.equal(
      sample(text, 'kube_lego_responder_watch_restarts_total{configmap="status",reason="error"}'),
      1,
    );
    assert.equal(
      sample(text, 'kube_lego_responder_last_sync_timestamp_seconds{configmap="challenge"}'),
      Date.parse('2026-11-30T10:00:00.500Z') / 1000,
    );
    assert.equal(sample(text, 'process_start_time_seconds'), 1_700_000_000);
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 1_000_000);
    assert.match(text, /# TYPE kube_lego_responder_requests_total counter\n/);
    assert.match(text, /# TYPE kube_lego_responder_tokens gauge\n/);
  });

  test("the status ConfigMap becomes each certificate's expiry, result and failures, and the last run", () => {
    const status = new JobStatusView(silentLogger);
    status.replace({
      ...encodeStatus(
        [
          certificate({}),
          certificate({
            namespace: 'blog',
            secretName: 'blog-tls',
            notAfter: null,
            result: 'Failed',
            failures: 3,
          }),
          certificate({ namespace: 'odd', secretName: 'a"b\\c', result: 'Renewed' }),
        ],
        RUN,
      ),
      'broken.entry': '{not json',
    });
    const metrics = new ResponderMetrics({
      challenges: { size: 0, malformedCount: 0 },
      status,
      isReady: () => true,
    });
    const text = metrics.render();
    assert.equal(
      sample(
        text,
        'kube_lego_certificate_not_after_timestamp_seconds{namespace="shop",secret="web-tls"}',
      ),
      Date.parse('2027-02-01T00:00:00.000Z') / 1000,
    );
    assert.ok(
      !text.includes('kube_lego_certificate_not_after_timestamp_seconds{namespace="blog"'),
      'no expiry for a certificate that does not exist',
    );
    assert.equal(
      sample(
        text,
        'kube_lego_certificate_result{namespace="blog",secret="blog-tls",result="Failed",source="Ingress"}',
      ),
      1,
    );
    assert.equal(
      sample(text, 'kube_lego_certificate_failures{namespace="blog",secret="blog-tls"}'),
      3,
    );
    assert.equal(
      sample(
        text,
        'kube_lego_certificate_result{namespace="odd",secret="a\\"b\\\\c",result="Renewed",source="Ingress"}',
      ),
      1,
      'label values are escaped',
    );
    assert.equal(
      sample(text, 'kube_lego_last_run_timestamp_seconds'),
      Date.parse(RUN.finishedAt) / 1000,
    );
    assert.equal(sample(text, 'kube_lego_last_run_success'), 0);
    assert.equal(sample(text, 'kube_lego_responder_malformed_entries{configmap="status"}'), 1);
  });

  test('renewal time, lifetime, directory (staging or not), and the run: duration, requests, last success', () => {
    const staging = 'https://acme-staging-v02.api.letsencrypt.org/directory';
    const production = 'https://acme-v02.api.letsencrypt.org/directory';
    const status = new JobStatusView(silentLogger);
    status.replace(
      encodeStatus(
        [
          certificate({
            notBefore: '2026-11-03T00:00:00.000Z',
            renewalAt: '2027-01-02T00:00:00.000Z',
            directoryUrl: staging,
          }),
          // Written by an older job: none of the new fields, so none of their samples.
          certificate({ namespace: 'old', secretName: 'old-tls' }),
        ],
        {
          ...RUN,
          result: 'Succeeded',
          directoryUrl: production,
          acmeRequests: 17,
          apiRequests: 42,
          lastSuccessAt: RUN.finishedAt,
        },
      ),
    );
    const text = new ResponderMetrics({
      challenges: { size: 0, malformedCount: 0 },
      status,
      isReady: () => true,
    }).render();
    const shop = '{namespace="shop",secret="web-tls"}';
    assert.equal(
      sample(text, `kube_lego_certificate_renewal_timestamp_seconds${shop}`),
      Date.parse('2027-01-02T00:00:00.000Z') / 1000,
    );
    assert.equal(
      sample(text, `kube_lego_certificate_not_before_timestamp_seconds${shop}`),
      Date.parse('2026-11-03T00:00:00.000Z') / 1000,
    );
    assert.equal(
      sample(
        text,
        `kube_lego_certificate_directory_info{namespace="shop",secret="web-tls",directory="${staging}",staging="true"}`,
      ),
      1,
    );
    assert.ok(!text.includes('kube_lego_certificate_directory_info{namespace="old"'));
    assert.equal(
      sample(
        text,
        'kube_lego_certificate_renewal_timestamp_seconds{namespace="old",secret="old-tls"}',
      ),
      undefined,
    );
    assert.equal(
      sample(text, `kube_lego_last_run_directory_info{directory="${production}",staging="false"}`),
      1,
    );
    assert.equal(sample(text, 'kube_lego_last_run_duration_seconds'), 30);
    assert.equal(sample(text, 'kube_lego_last_run_acme_requests'), 17);
    assert.equal(sample(text, 'kube_lego_last_run_api_requests'), 42);
    assert.equal(
      sample(text, 'kube_lego_last_successful_run_timestamp_seconds'),
      Date.parse(RUN.finishedAt) / 1000,
    );
  });

  test('kube_lego_certificates_failing counts certificates failing on their own, by reason', () => {
    const checkedAt = '2026-11-01T00:00:00.000Z';
    const failedAt = '2026-11-01T00:00:05.000Z';
    const status = new JobStatusView(silentLogger);
    status.replace(
      encodeStatus(
        [
          certificate({}),
          // Failed now: its own failure.
          certificate({
            secretName: 'a-tls',
            result: 'Failed',
            reason: 'AcmeUnauthorized',
            failures: 1,
            lastFailureAt: failedAt,
          }),
          certificate({
            secretName: 'b-tls',
            result: 'Failed',
            reason: 'AcmeUnauthorized',
            failures: 2,
            lastFailureAt: failedAt,
          }),
          certificate({ secretName: 'c-tls', result: 'Invalid', reason: 'WildcardHost' }),
          certificate({
            secretName: 'd-tls',
            result: 'BackingOff',
            reason: 'BackingOff',
            failures: 1,
            lastFailureAt: '2026-10-31T23:00:00.000Z',
          }),
          // Not attempted because the run stopped: the run's failure, not this certificate's.
          certificate({
            secretName: 'e-tls',
            result: 'Failed',
            reason: 'AcmeUnavailable',
            failures: 0,
          }),
          certificate({
            secretName: 'f-tls',
            result: 'Failed',
            reason: 'Stopped',
            failures: 1,
            lastFailureAt: '2026-10-31T23:00:00.000Z',
          }),
          // Left for the next run by the budget: failing still if it had failed, else not.
          certificate({
            secretName: 'g-tls',
            result: 'Deferred',
            reason: 'OrderBudgetExhausted',
            failures: 3,
            lastFailureReason: 'AcmeRateLimited',
            lastFailureAt: '2026-10-31T23:00:00.000Z',
          }),
          certificate({
            secretName: 'h-tls',
            result: 'Deferred',
            reason: 'RunBudgetExhausted',
            failures: 0,
          }),
        ].map((c) => ({ ...c, checkedAt })),
        { ...RUN, result: 'Succeeded' },
      ),
    );
    const text = new ResponderMetrics({
      challenges: { size: 0, malformedCount: 0 },
      status,
      isReady: () => true,
    }).render();
    const failing = text.split('\n').filter((l) => l.startsWith('kube_lego_certificates_failing{'));
    assert.deepEqual(failing, [
      'kube_lego_certificates_failing{reason="AcmeRateLimited"} 1',
      'kube_lego_certificates_failing{reason="AcmeUnauthorized"} 2',
      'kube_lego_certificates_failing{reason="BackingOff"} 1',
      'kube_lego_certificates_failing{reason="WildcardHost"} 1',
    ]);
    // The run itself worked although certificates fail.
    assert.equal(sample(text, 'kube_lego_last_run_success'), 1);
  });

  test('a run record without the newer fields has no samples of them', () => {
    const status = new JobStatusView(silentLogger);
    status.replace(encodeStatus([], RUN));
    const text = new ResponderMetrics({
      challenges: { size: 0, malformedCount: 0 },
      status,
      isReady: () => true,
    }).render();
    assert.equal(sample(text, 'kube_lego_last_run_duration_seconds'), 30);
    for (const series of [
      'kube_lego_last_successful_run_timestamp_seconds',
      'kube_lego_last_run_acme_requests',
      'kube_lego_last_run_api_requests',
    ]) {
      assert.equal(sample(text, series), undefined, series);
    }
    assert.ok(!/^kube_lego_last_run_directory_info/m.test(text));
  });

  test('no status ConfigMap: the families are there, without samples', () => {
    const status = new JobStatusView(silentLogger);
    status.replace(undefined);
    const text = new ResponderMetrics({
      challenges: { size: 0, malformedCount: 0 },
      status,
      isReady: () => true,
    }).render();
    assert.match(text, /# TYPE kube_lego_last_run_success gauge\n/);
    assert.equal(sample(text, 'kube_lego_last_run_success'), undefined);
    assert.ok(!/^kube_lego_certificate_/m.test(text));
  });

  test('a run that stopped early: kube_lego_last_run_stopped with its reason; none otherwise', () => {
    const status = new JobStatusView(silentLogger);
    const render = () =>
      new ResponderMetrics({
        challenges: { size: 0, malformedCount: 0 },
        status,
        isReady: () => true,
      }).render();
    status.replace(encodeStatus([], RUN));
    assert.ok(
      !/^kube_lego_last_run_stopped\{/m.test(render()),
      'no sample for a run that went through',
    );
    status.replace(
      encodeStatus([], { ...RUN, reason: 'AcmeUnavailable', message: 'ACME create order failed' }),
    );
    assert.equal(sample(render(), 'kube_lego_last_run_stopped{reason="AcmeUnavailable"}'), 1);
  });
});

describe('the metrics app', { timeout: 30_000 }, () => {
  test('GET /metrics is the text format; other paths 404; other methods 405', async () => {
    const app = createMetricsApp(() => '# HELP x y\n# TYPE x gauge\nx 1\n', silentLogger);
    const callback = app.callback();
    const server = createServer((req, res) => {
      void callback(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await send(base, { path: '/metrics' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], PROMETHEUS_CONTENT_TYPE);
      assert.equal(res.body, '# HELP x y\n# TYPE x gauge\nx 1\n');
      assert.equal((await send(base, { path: '/metrics?x=1' })).status, 200);
      assert.equal((await send(base, { path: '/' })).status, 404);
      assert.equal((await send(base, { path: '/.well-known/acme-challenge/x' })).status, 404);
      assert.equal((await send(base, { path: '/metrics', method: 'POST' })).status, 405);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('a failing render is a constant 500', async () => {
    const app = createMetricsApp(() => {
      throw new Error('internal detail');
    }, silentLogger);
    const callback = app.callback();
    const server = createServer((req, res) => {
      void callback(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await send(base, { path: '/metrics' });
      assert.equal(res.status, 500);
      assert.ok(!res.body.includes('internal detail'));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
