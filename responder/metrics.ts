/**
 * The responder's metrics (served on LEGO_METRICS_PORT, see metrics-app.ts): its own counters,
 * and gauges made from the job's status ConfigMap so that certificate expiry and failed runs can
 * be alerted on while the job is not running. Names and labels are listed in docs/responder.md.
 */
import { isStagingDirectory } from '../shared/acme-directory.js';
import type { CertificateStatus, RunStatus } from '../shared/status-entries.js';
import { REQUEST_RESULTS, type RequestResult } from './answer.js';
import type { RejectReason, ShedReason } from './http-server.js';
import { formatFamilies, type MetricFamily, type Sample } from './prometheus-text.js';
import { statusSource } from '../shared/status-source.js';

/** Which of the two ConfigMaps a watch metric is about (the label `configmap`). */
export type ConfigMapRole = 'challenge' | 'status';
/** Why a watch was started again: an error, an expired resourceVersion (410), or silence. */
export type RestartReason = 'error' | 'expired' | 'silent';

const ROLES: readonly ConfigMapRole[] = ['challenge', 'status'];
const RESTART_REASONS: readonly RestartReason[] = ['error', 'expired', 'silent'];
const REJECT_REASONS: readonly RejectReason[] = ['header_overflow', 'timeout', 'bad_request'];
const SHED_REASONS: readonly ShedReason[] = ['evicted', 'refused'];

/** What the metrics read at scrape time. */
export interface MetricsSources {
  challenges: { readonly size: number; readonly malformedCount: number };
  status: {
    readonly certificates: readonly CertificateStatus[];
    readonly run: RunStatus | undefined;
    readonly malformedCount: number;
  };
  isReady: () => boolean;
}

/** Counters the responder updates, and the text exposition of every metric. */
export class ResponderMetrics {
  private readonly requests = new Map<RequestResult, number>(REQUEST_RESULTS.map((r) => [r, 0]));
  private readonly rejected = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));
  private readonly shed = new Map<ShedReason, number>(SHED_REASONS.map((r) => [r, 0]));
  private readonly restarts = new Map<string, number>();
  private readonly lastSync = new Map<ConfigMapRole, number>();

  constructor(
    private readonly sources: MetricsSources,
    private readonly processStartSeconds = Math.round(Date.now() / 1000 - process.uptime()),
  ) {}

  /** Counts one answered request. */
  countRequest(result: RequestResult): void {
    this.requests.set(result, (this.requests.get(result) ?? 0) + 1);
  }

  /** Counts one request Node refused before the app saw it. */
  countRejected(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  /** Counts one connection closed at the connection cap. */
  countShed(reason: ShedReason): void {
    this.shed.set(reason, (this.shed.get(reason) ?? 0) + 1);
  }

  /** Counts one restart of a watch. */
  countWatchRestart(configmap: ConfigMapRole, reason: RestartReason): void {
    const key = `${configmap}/${reason}`;
    this.restarts.set(key, (this.restarts.get(key) ?? 0) + 1);
  }

  /** Records that a ConfigMap was known to be in sync with the API server at `at`. */
  markSynced(configmap: ConfigMapRole, at: Date): void {
    this.lastSync.set(configmap, at.getTime() / 1000);
  }

  /** Every metric, in the Prometheus text format. */
  render(): string {
    const { challenges, status } = this.sources;
    const families: MetricFamily[] = [
      {
        name: 'kube_lego_responder_requests_total',
        help: 'Requests answered on the challenge port, by result.',
        type: 'counter',
        samples: [...this.requests].map(([result, value]) => ({ labels: { result }, value })),
      },
      {
        name: 'kube_lego_responder_rejected_requests_total',
        help: 'Requests refused before they were answered (oversized or malformed head, timeout).',
        type: 'counter',
        samples: [...this.rejected].map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: 'kube_lego_responder_shed_connections_total',
        help: 'Connections closed at the connection cap: evicted while waiting for a request head, or refused.',
        type: 'counter',
        samples: [...this.shed].map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: 'kube_lego_responder_tokens',
        help: 'Pending HTTP-01 tokens loaded from the challenge ConfigMap.',
        type: 'gauge',
        samples: [{ value: challenges.size }],
      },
      {
        name: 'kube_lego_responder_malformed_entries',
        help: 'ConfigMap entries skipped because they could not be read.',
        type: 'gauge',
        samples: [
          { labels: { configmap: 'challenge' }, value: challenges.malformedCount },
          { labels: { configmap: 'status' }, value: status.malformedCount },
        ],
      },
      {
        name: 'kube_lego_responder_ready',
        help: 'Whether the challenge ConfigMap has been listed (1) or not yet (0).',
        type: 'gauge',
        samples: [{ value: this.sources.isReady() ? 1 : 0 }],
      },
      {
        name: 'kube_lego_responder_watch_restarts_total',
        help: 'Watches started again after an error, an expired resourceVersion or silence.',
        type: 'counter',
        samples: ROLES.flatMap((configmap) =>
          RESTART_REASONS.map((reason) => ({
            labels: { configmap, reason },
            value: this.restarts.get(`${configmap}/${reason}`) ?? 0,
          })),
        ),
      },
      {
        name: 'kube_lego_responder_last_sync_timestamp_seconds',
        help: 'When each ConfigMap was last known to be in sync with the API server.',
        type: 'gauge',
        samples: [...this.lastSync].map(([configmap, value]) => ({ labels: { configmap }, value })),
      },
      ...certificateFamilies(status.certificates, status.run),
      {
        name: 'process_resident_memory_bytes',
        help: 'Resident memory size in bytes.',
        type: 'gauge',
        samples: [{ value: process.memoryUsage.rss() }],
      },
      {
        name: 'process_start_time_seconds',
        help: 'Start time of the process since the Unix epoch in seconds.',
        type: 'gauge',
        samples: [{ value: this.processStartSeconds }],
      },
    ];
    return formatFamilies(families);
  }
}

/**
 * The gauges made from the status ConfigMap. A certificate without notAfter has no expiry; one
 * whose entry lacks a field (written by an older job) has no sample of that series; a run
 * record's missing field likewise.
 */
export function certificateFamilies(
  certificates: readonly CertificateStatus[],
  run: RunStatus | undefined,
): MetricFamily[] {
  const notAfter: Sample[] = [];
  const notBefore: Sample[] = [];
  const renewal: Sample[] = [];
  const directories: Sample[] = [];
  const results: Sample[] = [];
  const failures: Sample[] = [];
  const routes: Sample[] = [];
  const failing = new Map<string, number>();
  for (const c of certificates) {
    const reason = failingReason(c);
    if (reason !== undefined) failing.set(reason, (failing.get(reason) ?? 0) + 1);
    const labels = { namespace: c.namespace, secret: c.secretName };
    const push = (into: Sample[], iso: string | null | undefined) => {
      const ms = iso ? Date.parse(iso) : NaN;
      if (!Number.isNaN(ms)) into.push({ labels, value: ms / 1000 });
    };
    push(notAfter, c.notAfter);
    push(notBefore, c.notBefore);
    push(renewal, c.renewalAt);
    if (c.directoryUrl)
      directories.push({ labels: { ...labels, ...directoryLabels(c.directoryUrl) }, value: 1 });
    results.push({
      labels: { ...labels, result: c.result, source: statusSource(c.ingresses) },
      value: 1,
    });
    failures.push({ labels, value: c.failures });
    if (c.preflight) routes.push({ labels, value: c.preflight.result === 'Reachable' ? 1 : 0 });
  }
  const seconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : NaN);
  const runSample = (value: number | undefined): Sample[] =>
    value === undefined || Number.isNaN(value) ? [] : [{ value }];
  const finished = seconds(run?.finishedAt);
  return [
    {
      name: 'kube_lego_certificate_not_after_timestamp_seconds',
      help: "Each managed certificate's notAfter, from the job's status ConfigMap.",
      type: 'gauge',
      samples: notAfter,
    },
    {
      name: 'kube_lego_certificate_not_before_timestamp_seconds',
      help: "Each managed certificate's notBefore (notAfter minus this is its lifetime).",
      type: 'gauge',
      samples: notBefore,
    },
    {
      name: 'kube_lego_certificate_renewal_timestamp_seconds',
      help: 'When the job will renew each managed certificate (its first run after this instant).',
      type: 'gauge',
      samples: renewal,
    },
    {
      name: 'kube_lego_certificate_directory_info',
      help: 'The ACME directory that issued each managed certificate; staging="true": untrusted.',
      type: 'gauge',
      samples: directories,
    },
    {
      name: 'kube_lego_certificate_result',
      help: "Each managed certificate's result in the job's last run (always 1; see the label).",
      type: 'gauge',
      samples: results,
    },
    {
      name: 'kube_lego_certificate_failures',
      help: 'Consecutive failed issuance attempts of each managed certificate.',
      type: 'gauge',
      samples: failures,
    },
    {
      name: 'kube_lego_certificate_route_reachable',
      help: "Whether each certificate's last route preflight reached the responder through every host (1) or not (0); absent before the first.",
      type: 'gauge',
      samples: routes,
    },
    {
      name: 'kube_lego_certificates_failing',
      help: "Managed certificates whose last result in the job's last run is a failure of their own (Failed with failures counted, BackingOff, Invalid), by reason. A failing certificate does not fail the run.",
      type: 'gauge',
      samples: [...failing]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: 'kube_lego_last_run_timestamp_seconds',
      help: "When the job's last run finished.",
      type: 'gauge',
      samples: runSample(finished),
    },
    {
      name: 'kube_lego_last_run_success',
      help: "Whether the job's last run itself worked (1: the API and ACME servers were usable and the status written, whatever became of each certificate) or stopped early (0).",
      type: 'gauge',
      samples: run === undefined ? [] : [{ value: run.result === 'Succeeded' ? 1 : 0 }],
    },
    {
      name: 'kube_lego_last_run_stopped',
      help: "1 when the job's last run stopped early, labelled with why (AcmeUnavailable, KubeApiUnavailable, Stopped); absent otherwise.",
      type: 'gauge',
      samples: run?.reason ? [{ labels: { reason: run.reason }, value: 1 }] : [],
    },
    {
      name: 'kube_lego_last_successful_run_timestamp_seconds',
      help: "When the job's last successful run finished.",
      type: 'gauge',
      samples: runSample(seconds(run?.lastSuccessAt)),
    },
    {
      name: 'kube_lego_last_run_duration_seconds',
      help: "How long the job's last run took.",
      type: 'gauge',
      samples: runSample(finished - seconds(run?.startedAt)),
    },
    {
      name: 'kube_lego_last_run_acme_requests',
      help: "Requests the job's last run sent to the ACME server.",
      type: 'gauge',
      samples: runSample(run?.acmeRequests),
    },
    {
      name: 'kube_lego_last_run_api_requests',
      help: "Requests the job's last run sent to the Kubernetes API.",
      type: 'gauge',
      samples: runSample(run?.apiRequests),
    },
    {
      name: 'kube_lego_last_run_directory_info',
      help: 'The ACME directory (LEGO_URL) of the job\'s last run; staging="true": untrusted.',
      type: 'gauge',
      samples: run?.directoryUrl ? [{ labels: directoryLabels(run.directoryUrl), value: 1 }] : [],
    },
  ];
}

/**
 * The reason a certificate is failing for `kube_lego_certificates_failing`, or `undefined` when
 * it is not: `Invalid` entries and `BackingOff` ones always are; a `Deferred` one when it had
 * failed before the run's budget left it for the next run; a `Failed` one only when the
 * failure was its own, not a run that stopped before ordering it (AcmeUnavailable, Stopped,
 * LeaseLost leave the failure memory as it was).
 */
function failingReason(c: CertificateStatus): string | undefined {
  switch (c.result) {
    case 'Invalid':
      return c.reason || c.result;
    case 'BackingOff':
      // The cause, not the back-off: the last failure's reason survives back-off runs.
      return c.lastFailureReason || c.reason || c.result;
    case 'Deferred':
      // Left for the next run by the run's budget: still failing if it was (the failure memory
      // is kept), so a budget never resets the failing alert's `for:`.
      return c.failures > 0 ? c.lastFailureReason || undefined : undefined;
    case 'Failed':
      // Its own failure is recorded at or after the decision to order it (lastFailureAt ≥
      // checkedAt); a certificate the run did not attempt keeps an older one, or none.
      return c.lastFailureAt !== undefined && Date.parse(c.lastFailureAt) >= Date.parse(c.checkedAt)
        ? c.lastFailureReason || c.reason || c.result
        : undefined;
    default:
      return undefined;
  }
}

/** The `directory` and `staging` labels of an ACME directory URL. */
function directoryLabels(url: string): { directory: string; staging: string } {
  return { directory: url, staging: String(isStagingDirectory(url)) };
}
