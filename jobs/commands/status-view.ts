/**
 * What `status` prints, as pure functions of the recorded status and `now`: the table (default
 * and `wide`), the JSON document, and the view of one certificate with its last attempts. The
 * command (status-command.ts) only reads the ConfigMap and writes these out.
 */
import { statusSource } from '../../shared/status-source.js';
import { isStagingDirectory } from '../../shared/acme-directory.js';
import {
  shortMessage,
  type CertificateStatus,
  type RunStatus,
} from '../../shared/status-entries.js';
import { formatTable } from './table.js';

/** The `--output` formats. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Message length in the default table and in `wide`. */
const TABLE_MESSAGE_LENGTH = 60;
const WIDE_MESSAGE_LENGTH = 120;

/** Results that mean the certificate is fine. */
export function isGoodResult(status: CertificateStatus): boolean {
  return ['Valid', 'Issued', 'Renewed'].includes(status.result);
}

/**
 * The reason and message to show for a certificate: while it is failing (`failures` > 0), its
 * last failure's — what a back-off run would otherwise hide behind `BackingOff` — else the last
 * decision's.
 */
export function shownCause(status: CertificateStatus): { reason: string; message: string } {
  if (status.failures > 0 && status.lastFailureReason !== undefined)
    return { reason: status.lastFailureReason, message: status.lastFailureMessage ?? '' };
  return { reason: status.reason, message: status.message };
}

/** The certificates as a table: the default columns, or more with `wide`. */
export function formatStatusTable(
  certificates: readonly CertificateStatus[],
  now: Date,
  wide: boolean,
): string {
  const header = [
    'SOURCE',
    'NAMESPACE',
    'SECRET',
    'HOSTS',
    'NOT AFTER',
    'LEFT',
    'RESULT',
    'REASON',
    ...(wide
      ? ['FAILURES', 'NEXT ATTEMPT', 'LAST SUCCESS', 'RENEWAL AT', 'KEY', 'DIRECTORY']
      : ['RETRY']),
    'ROUTES',
    'MESSAGE',
  ];
  const rows = certificates.map((c) => {
    const cause = shownCause(c);
    return [
      statusSource(c.ingresses),
      c.namespace,
      c.secretName,
      c.hosts.join(','),
      c.notAfter ?? '-',
      timeLeft(c.notAfter, now),
      c.result,
      cause.reason || '-',
      ...(wide
        ? [
            String(c.failures),
            c.failures > 0 ? (c.retryAfter ?? '-') : '-',
            c.lastSuccessAt ?? '-',
            c.renewalAt ?? '-',
            c.keyType ?? '-',
            c.directoryUrl ?? '-',
          ]
        : [retryColumn(c, now)]),
      preflightColumn(c, wide),
      shortMessage(cause.message, wide ? WIDE_MESSAGE_LENGTH : TABLE_MESSAGE_LENGTH),
    ];
  });
  return formatTable(header, rows);
}

/** `--output json`: the entries and the last run as recorded, plus unreadable keys. */
export function formatStatusJson(
  certificates: readonly CertificateStatus[],
  run: RunStatus | undefined,
  malformed: readonly string[],
): string {
  return JSON.stringify({ certificates, run: run ?? null, malformed }, null, 2);
}

/** `status <namespace>/<secret>`: one certificate, every field, and its last attempts. */
export function formatCertificateView(c: CertificateStatus, now: Date): string {
  const lines: [string, string][] = [
    ['Certificate', `${c.namespace}/${c.secretName}`],
    ['Requested by', c.ingresses.join(', ') || '-'],
    ['Hosts', c.hosts.join(', ') || '-'],
    ['Result', `${c.result} (${c.reason || '-'})${c.message ? `: ${c.message}` : ''}`],
    [
      'Not after',
      c.notAfter ? `${c.notAfter} (${timeLeft(c.notAfter, now)} left)` : '- (no certificate)',
    ],
    ['Not before', c.notBefore ?? '-'],
    ['Renewal at', c.renewalAt ?? '-'],
    ['Key type', c.keyType ?? '-'],
    ['Route preflight', preflightColumn(c, true)],
    [
      'Issuer directory',
      c.directoryUrl
        ? `${c.directoryUrl}${isStagingDirectory(c.directoryUrl) ? ' (STAGING: not trusted by browsers)' : ''}`
        : '-',
    ],
    [
      'Failures',
      c.failures > 0
        ? `${c.failures} consecutive; next attempt not before ${c.retryAfter ?? '?'}${c.retryAfter ? ` (${relative(c.retryAfter, now)})` : ''}`
        : '0',
    ],
    [
      'Last failure',
      c.lastFailureReason
        ? `${c.lastFailureAt ?? '?'} ${c.lastFailureReason}: ${c.lastFailureMessage ?? ''}`
        : '-',
    ],
    ['Last success', c.lastSuccessAt ?? '-'],
    ['Checked at', c.checkedAt || '-'],
  ];
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  const head = lines.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`).join('\n');
  const history = c.history ?? [];
  if (history.length === 0) return `${head}\n\nLast attempts: none recorded.`;
  const table = formatTable(
    ['AT', 'RESULT', 'REASON', 'DIRECTORY', 'MESSAGE'],
    history.map((a) => [a.at, a.result, a.reason, a.directoryUrl ?? '-', a.message]),
  );
  return `${head}\n\nLast attempts (oldest first):\n${table}`;
}

/** `2 failures, next in 45m`, `2 failures, next now`, or empty when not failing. */
function retryColumn(c: CertificateStatus, now: Date): string {
  if (!(c.failures > 0)) return '';
  const count = `${c.failures} failure${c.failures === 1 ? '' : 's'}`;
  return c.retryAfter ? `${count}, next ${relative(c.retryAfter, now)}` : count;
}

/** Time left until `notAfter`: `89d`, `expired`, or `-` without a certificate. */
function timeLeft(notAfter: string | null, now: Date): string {
  if (!notAfter) return '-';
  const left = Date.parse(notAfter) - now.getTime();
  if (Number.isNaN(left)) return '-';
  return left <= 0 ? 'expired' : roundDuration(left);
}

/** `in 45m`, or `now` when the instant has passed. */
function relative(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '?';
  return ms <= 0 ? 'now' : `in ${roundDuration(ms)}`;
}

/** A duration rounded for people: minutes up to 2h, hours up to 3 days, then days. */
export function roundDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.round(minutes / 60);
  return hours < 72 ? `${hours}h` : `${Math.round(hours / 24)}d`;
}

/**
 * The last route preflight (jobs/issue/route-preflight.ts), before the certificate's last order:
 * `Reachable`/`Unreachable`, with the hosts and what was seen there when `detailed`; `-` if none.
 */
function preflightColumn(c: CertificateStatus, detailed: boolean): string {
  if (!c.preflight) return '-';
  if (!detailed) return c.preflight.result;
  const seen = (c.preflight.unreachable ?? []).map((u) => `; ${u.host}: ${u.seen}`).join('');
  return `${c.preflight.result} at ${c.preflight.checkedAt}${seen}`;
}
