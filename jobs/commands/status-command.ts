/**
 * `status`: the managed certificates as the last run recorded them — expiry, time left, last
 * result — and the last run itself, with a warning when it is older than two check intervals
 * (a CronJob that stopped running is the renewal failure kube-lego users never saw).
 */
import { isStagingDirectory } from '../../shared/acme-directory.js';
import { formatDuration } from '../../shared/duration.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import { statusSource } from '../../shared/status-source.js';
import { formatTable } from './table.js';
import { wireJob, type CommandContext } from './wiring.js';

/** Prints the table; exit code 1 when any certificate's last result is not good, else 0. */
export async function statusCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
): Promise<number> {
  const snapshot = await wireJob(settings, logger, context).status.read();
  const now = Date.now();
  for (const key of snapshot.malformed) logger.warn('unreadable status entry skipped', { key });
  const rows = snapshot.certificates.map((c) => {
    const left = c.notAfter ? new Date(c.notAfter).getTime() - now : undefined;
    return [
      statusSource(c.ingresses),
      c.namespace,
      c.secretName,
      c.hosts.join(','),
      c.notAfter ?? '-',
      left === undefined ? '-' : left <= 0 ? 'expired' : roundDuration(left),
      c.result,
      c.reason,
      c.failures > 0 ? `${c.failures} failures, next ${c.retryAfter ?? '?'}` : '',
      // The last route preflight (jobs/issue/route-preflight.ts), before the last order.
      c.preflight
        ? `${c.preflight.result} at ${c.preflight.checkedAt}${(c.preflight.unreachable ?? []).map((u) => `; ${u.host}: ${u.seen}`).join('')}`
        : '-',
    ];
  });
  process.stdout.write(
    formatTable(
      [
        'SOURCE',
        'NAMESPACE',
        'SECRET',
        'HOSTS',
        'NOT AFTER',
        'LEFT',
        'RESULT',
        'REASON',
        'RETRY',
        'ROUTES',
      ],
      rows,
    ) + '\n',
  );
  // Staging certificates look like real ones in a table: say so, by name.
  const staging = snapshot.certificates.filter(
    (c) => c.directoryUrl !== undefined && isStagingDirectory(c.directoryUrl),
  );
  if (staging.length > 0) {
    process.stdout.write(
      `\nSTAGING: ${staging.length} certificate(s) issued by a staging directory, not trusted by browsers: ${staging.map((c) => `${c.namespace}/${c.secretName}`).join(', ')}.\n`,
    );
  }
  const run = snapshot.run;
  if (run?.directoryUrl) {
    process.stdout.write(
      `\nACME directory: ${run.directoryUrl}${isStagingDirectory(run.directoryUrl) ? ' (STAGING: certificates it issues are not trusted by browsers)' : ''}\n`,
    );
  }
  if (!run) {
    process.stdout.write('\nNo run has finished yet.\n');
    return 1;
  }
  const age = now - new Date(run.finishedAt).getTime();
  process.stdout.write(
    `\nLast run: ${run.result} at ${run.finishedAt} (${roundDuration(age)} ago): ${run.entries} entries, ${run.issued} issued, ${run.renewed} renewed, ${run.valid} valid, ${run.skipped} skipped, ${run.failed} failed.\n`,
  );
  if (run.reason) {
    process.stdout.write(`The run stopped early (${run.reason}): ${run.message ?? ''}\n`);
  }
  if (age > 2 * settings.checkInterval) {
    process.stdout.write(
      `WARNING: the last run is older than twice LEGO_CHECK_INTERVAL (${formatDuration(settings.checkInterval)}); is the CronJob running?\n`,
    );
  }
  const bad = snapshot.certificates.filter(
    (c) => !['Valid', 'Issued', 'Renewed'].includes(c.result),
  );
  return bad.length > 0 ? 1 : 0;
}

function roundDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.round(minutes / 60);
  return hours < 72 ? `${hours}h` : `${Math.round(hours / 24)}d`;
}
