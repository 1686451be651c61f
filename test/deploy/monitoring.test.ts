/**
 * Integration and end to end: the chart's monitoring objects. The rendered alerting rules pass
 * `promtool check rules`; `promtool test rules` proves each alert fires on a small series file
 * (and stays quiet on healthy series); and every metric the rules name is in a live `/metrics`
 * scrape of the real responder after a real job run against Pebble. promtool is built from its
 * Go module by test/env/build-servers.sh (PROMTOOL_DIR, exported by `npm test`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api, Watch } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { annotatedIngress } from '../support/fixtures.js';
import { jobEnv, runJob } from '../support/job-process.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import { find, kubectl, serverDryRun, ofKind, renderHelm, type KubeObject } from './render.js';

const MONITORING = {
  'monitoring.serviceMonitor.enabled': 'true',
  'monitoring.prometheusRule.enabled': 'true',
};

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function ruleGroups(objects: KubeObject[]): { name: string; rules: Rule[] }[] {
  return (
    find(objects, 'PrometheusRule', 'kube-lego').spec as {
      groups: { name: string; rules: Rule[] }[];
    }
  ).groups;
}

function promtool(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const dir = process.env.PROMTOOL_DIR;
  if (!dir) throw new Error('PROMTOOL_DIR is not set: run the tests with `npm test -- <file>`');
  return new Promise((resolve) => {
    execFile(join(dir, 'promtool'), args, { cwd, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({
        code: error ? ((error.code as number | undefined) ?? 1) : 0,
        output: stdout + stderr,
      });
    });
  });
}

/** Resolves once the CRD `name` is Established, from a watch of it (kubectl wait fails on a CRD with no conditions yet). */
async function established(name: string): Promise<void> {
  let request: AbortController | undefined;
  await new Promise<void>((resolve, reject) => {
    void new Watch(adminKubeConfig())
      .watch(
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        { fieldSelector: `metadata.name=${name}` },
        (_type, object: { status?: { conditions?: { type: string; status: string }[] } }) => {
          const conditions = object.status?.conditions ?? [];
          if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) resolve();
        },
        (error: unknown) => {
          reject(
            new Error(`the watch of CRD ${name} ended before it was Established`, { cause: error }),
          );
        },
      )
      .then((controller) => (request = controller), reject);
  });
  request?.abort();
}

/** Prometheus's `humanizeDuration` for a whole number of seconds of at least one. */
function humanizeDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h ${m}m ${s}s`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

const DAY = 86400;
const HOUR = 3600;
const rendered = renderHelm({ set: MONITORING });
const groups = ruleGroups(rendered);
const rules = groups.flatMap((g) => g.rules);
const work = mkdtempSync(join(tmpdir(), 'kube-lego-rules-'));
writeFileSync(join(work, 'rules.yaml'), JSON.stringify({ groups }));
after(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The annotations a rule gives an alert with these labels and this value. */
function annotations(
  alert: string,
  labels: Record<string, string>,
  value: number,
): Record<string, string> {
  const rule = rules.find((r) => r.alert === alert)!;
  const fill = (text: string) =>
    text
      .replaceAll('{{ $labels.namespace }}', labels.namespace ?? '')
      .replaceAll('{{ $labels.secret }}', labels.secret ?? '')
      .replaceAll('{{ $value | humanizeDuration }}', humanizeDuration(value));
  return Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, fill(v)]));
}

const cert = (name: string, secret: string) =>
  `kube_lego_certificate_${name}{namespace="shop",secret="${secret}",instance="responder-1"}`;
/** A series holding `value` for `samples` samples. */
const constant = (series: string, value: number, samples: number) => ({
  series,
  values: `${value}+0x${samples}`,
});

describe('the chart’s monitoring objects', () => {
  test('a ServiceMonitor on the responder Service’s metrics port, keeping the metrics’ labels', () => {
    const monitor = find(rendered, 'ServiceMonitor', 'kube-lego-responder').spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; honorLabels: boolean }[];
    };
    const service = find(rendered, 'Service', 'kube-lego-responder');
    for (const [k, v] of Object.entries(monitor.selector.matchLabels)) {
      assert.equal(service.metadata.labels?.[k], v, k);
    }
    const ports = (service.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
    assert.ok(ports.includes(monitor.endpoints[0]!.port));
    assert.equal(monitor.endpoints[0]!.honorLabels, true);
  });

  test('off by default', () => {
    const plain = renderHelm();
    assert.ok(!plain.some((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule'));
  });

  test('both pass a server-side dry run against the Prometheus Operator’s CRDs', async () => {
    // The CRDs from the operator's Go module (test/env/build-servers.sh monitoring-crds).
    const crds = process.env.MONITORING_CRDS_DIR;
    if (!crds) throw new Error('MONITORING_CRDS_DIR is not set: run the tests with `npm test`');
    const kubeconfig = testEnv().kubeconfig;
    for (const name of ['servicemonitors', 'prometheusrules']) {
      const file = join(crds, `monitoring.coreos.com_${name}.yaml`);
      kubectl(['apply', '--server-side', '--kubeconfig', kubeconfig, '-f', file]);
      await established(`${name}.monitoring.coreos.com`);
    }
    const namespace = await createNamespace('deploy-monitoring');
    const inNamespace = renderHelm({ namespace, set: MONITORING });
    const objects = [
      ...ofKind(inNamespace, 'ServiceMonitor'),
      ...ofKind(inNamespace, 'PrometheusRule'),
    ];
    assert.equal(objects.length, 2);
    const result = await serverDryRun(objects);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /warning/i);
    assert.match(
      result.stdout,
      /servicemonitor\.monitoring\.coreos\.com\/kube-lego-responder serverside-applied \(server dry run\)/,
    );
    assert.match(
      result.stdout,
      /prometheusrule\.monitoring\.coreos\.com\/kube-lego serverside-applied \(server dry run\)/,
    );
  });

  test('the rendered rules pass promtool check rules', async () => {
    const result = await promtool(['check', 'rules', 'rules.yaml'], work);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: 5 rules found/);
    assert.deepEqual([...new Set(rules.map((r) => r.alert))].sort(), [
      'KubeLegoCertificateExpiringSoon',
      'KubeLegoCertificateFailing',
      'KubeLegoCertificateRenewalOverdue',
      'KubeLegoNoSuccessfulRun',
      'KubeLegoNoSuccessfulRunRecorded',
    ]);
  });

  test('promtool test rules: each alert fires on its series, and only there', async () => {
    const sev = { severity: 'warning' };
    const shop = (secret: string) => ({ ...sev, namespace: 'shop', secret });
    const t10m = 600;
    // Expiry, evaluated at 10m: notAfter − time() against 14 days and a third of the lifetime.
    const expiry = {
      interval: '1m',
      input_series: [
        // 90-day certificate with 10 days left: fires.
        constant(cert('not_after_timestamp_seconds', 'soon'), 10 * DAY, 20),
        constant(cert('not_before_timestamp_seconds', 'soon'), -80 * DAY, 20),
        // 60 days left: quiet.
        constant(cert('not_after_timestamp_seconds', 'fine'), 60 * DAY, 20),
        constant(cert('not_before_timestamp_seconds', 'fine'), -30 * DAY, 20),
        // 6-day certificate with 3 days left (more than a third): quiet although < 14 days.
        constant(cert('not_after_timestamp_seconds', 'short'), 3 * DAY, 20),
        constant(cert('not_before_timestamp_seconds', 'short'), -3 * DAY, 20),
        // 6-day certificate with 1 day left (less than a third): fires.
        constant(cert('not_after_timestamp_seconds', 'shortdue'), DAY, 20),
        constant(cert('not_before_timestamp_seconds', 'shortdue'), -5 * DAY, 20),
        // Written by an older job (no notBefore): 14 days alone; 5 days left fires.
        constant(cert('not_after_timestamp_seconds', 'old'), 5 * DAY, 20),
      ],
      alert_rule_test: [
        {
          eval_time: '10m',
          alertname: 'KubeLegoCertificateExpiringSoon',
          exp_alerts: [
            ['soon', 10 * DAY],
            ['shortdue', DAY],
            ['old', 5 * DAY],
          ].map(([secret, notAfter]) => ({
            exp_labels: shop(secret as string),
            exp_annotations: annotations(
              'KubeLegoCertificateExpiringSoon',
              shop(secret as string),
              (notAfter as number) - t10m,
            ),
          })),
        },
      ],
    };
    // Renewal time at the epoch; two check intervals (16 h) later it is overdue.
    const overdue = {
      interval: '10m',
      input_series: [
        constant(cert('renewal_timestamp_seconds', 'late'), 0, 120),
        constant(cert('renewal_timestamp_seconds', 'later'), 30 * DAY, 120),
      ],
      alert_rule_test: [
        { eval_time: '15h', alertname: 'KubeLegoCertificateRenewalOverdue', exp_alerts: [] },
        {
          eval_time: '17h',
          alertname: 'KubeLegoCertificateRenewalOverdue',
          exp_alerts: [
            {
              exp_labels: shop('late'),
              exp_annotations: annotations(
                'KubeLegoCertificateRenewalOverdue',
                shop('late'),
                17 * HOUR,
              ),
            },
          ],
        },
      ],
    };
    // Failing for 24 h, first Failed then BackingOff (the result label changes): fires.
    const failing = {
      // One sample a minute: the rules are evaluated every minute, and a series with no sample
      // in the last 5 minutes is gone, which would reset the `for`.
      interval: '1m',
      input_series: [
        { series: cert('result', 'broken').replace('}', ',result="Failed"}'), values: '1x120' },
        // From about 1 h 40 m on: the result label changed (a scrape may briefly see both).
        {
          series: cert('result', 'broken').replace('}', ',result="BackingOff"}'),
          values: '_x100 1x1400',
        },
        { series: cert('result', 'good').replace('}', ',result="Valid"}'), values: '1x1500' },
      ],
      alert_rule_test: [
        { eval_time: '23h', alertname: 'KubeLegoCertificateFailing', exp_alerts: [] },
        {
          eval_time: '24h10m',
          alertname: 'KubeLegoCertificateFailing',
          exp_alerts: [
            {
              exp_labels: shop('broken'),
              exp_annotations: annotations('KubeLegoCertificateFailing', shop('broken'), 1),
            },
          ],
        },
      ],
    };
    // The last success at the epoch: 2 × 8 h later, no successful run.
    const install = { ...sev, namespace: 'kube-lego' };
    const stale = {
      interval: '10m',
      input_series: [
        constant('kube_lego_last_successful_run_timestamp_seconds{namespace="kube-lego"}', 0, 120),
      ],
      alert_rule_test: [
        { eval_time: '15h', alertname: 'KubeLegoNoSuccessfulRun', exp_alerts: [] },
        {
          eval_time: '17h',
          alertname: 'KubeLegoNoSuccessfulRun',
          exp_alerts: [
            {
              exp_labels: install,
              exp_annotations: annotations('KubeLegoNoSuccessfulRun', install, 17 * HOUR),
            },
          ],
        },
      ],
    };
    // No success recorded at all, for two intervals.
    const absentRule = rules.find((r) => r.alert === 'KubeLegoNoSuccessfulRunRecorded')!;
    const never = {
      interval: '10m',
      input_series: [
        constant('kube_lego_last_run_timestamp_seconds{namespace="kube-lego"}', 0, 120),
      ],
      alert_rule_test: [
        { eval_time: '15h', alertname: 'KubeLegoNoSuccessfulRunRecorded', exp_alerts: [] },
        {
          eval_time: '16h10m',
          alertname: 'KubeLegoNoSuccessfulRunRecorded',
          exp_alerts: [{ exp_labels: sev, exp_annotations: absentRule.annotations }],
        },
      ],
    };
    writeFileSync(
      join(work, 'tests.yaml'),
      JSON.stringify({
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: [expiry, overdue, failing, stale, never],
      }),
    );
    const result = await promtool(['test', 'rules', 'tests.yaml'], work);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });
});

describe(
  'the metrics the rules name, in a live scrape after a real run',
  { timeout: 180_000 },
  () => {
    let responder: ResponderProcess | undefined;
    after(async () => {
      await responder?.stop();
    });

    test('every kube_lego_* series of the rules has samples; staging is labelled', async () => {
      const lego = await createNamespace('monitoring-lego');
      const app = await createNamespace('monitoring-app');
      // Pebble validates on its one httpPort: the responder listens there.
      responder = await startResponderProcess({
        namespace: lego,
        port: testEnv().pebble.httpPort,
        host: '127.0.0.1',
      });
      await adminKubeConfig()
        .makeApiClient(NetworkingV1Api)
        .createNamespacedIngress({
          namespace: app,
          body: annotatedIngress('shop', [
            { hosts: ['metrics.example.com'], secretName: 'metrics-tls' },
          ]),
        });
      const run = await runJob(jobEnv(lego, { LEGO_WATCH_NAMESPACE: app }));
      assert.equal(run.code, 0, run.stderr.slice(-4000));
      const issued = run.logs.find((l) => l.msg === 'certificate issued');
      assert.equal(issued?.directory, testEnv().pebble.directoryUrl);
      assert.equal(issued?.staging, false);

      // Wait for the responder to have seen the status the run wrote (its watch event).
      const written = await adminKubeConfig()
        .makeApiClient(CoreV1Api)
        .readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
      const version = written.metadata?.resourceVersion;
      await responder.waitForLog(
        (r) =>
          r.configmap === 'kube-lego-status' &&
          (r.resourceVersion === version ||
            (r.msg === 'listed the ConfigMap' && Number(r.resourceVersion) >= Number(version))),
      );

      const text = await (await fetch(`${responder.metricsUrl}/metrics`)).text();
      const named = new Set(rules.flatMap((r) => r.expr.match(/kube_lego_[a-z_]+/g) ?? []));
      assert.ok(named.size >= 5, [...named].join());
      for (const name of named) {
        assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`, 'm'), `no sample of ${name}`);
      }
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      const labels = `{namespace="${app}",secret="metrics-tls"}`;
      const notAfter = value(`kube_lego_certificate_not_after_timestamp_seconds${labels}`)!;
      const notBefore = value(`kube_lego_certificate_not_before_timestamp_seconds${labels}`)!;
      const renewal = value(`kube_lego_certificate_renewal_timestamp_seconds${labels}`)!;
      assert.ok(
        notBefore < renewal && renewal < notAfter,
        `${notBefore} < ${renewal} < ${notAfter}`,
      );
      const directory = testEnv().pebble.directoryUrl;
      assert.equal(
        value(
          `kube_lego_certificate_directory_info{namespace="${app}",secret="metrics-tls",directory="${directory}",staging="false"}`,
        ),
        1,
      );
      assert.equal(
        value(`kube_lego_last_run_directory_info{directory="${directory}",staging="false"}`),
        1,
      );
      assert.ok(value('kube_lego_last_run_acme_requests')! > 0);
      assert.ok(value('kube_lego_last_run_api_requests')! > 0);
      assert.ok(value('kube_lego_last_run_duration_seconds')! > 0);
    });
  },
);
