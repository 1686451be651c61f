/**
 * `status`: the managed certificates as the last run recorded them — expiry, time left, last
 * result — and the last run itself, with a warning when it is older than two check intervals
 * (a CronJob that stopped running is the renewal failure kube-lego users never saw).
 */
import { formatDuration } from '../../shared/duration.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import { formatTable } from './table.js';
import { wireJob } from './wiring.js';

/** Prints the table; exit code 1 when any certificate's last result is not good, else 0. */
export async function statusCommand(settings: JobSettings, logger: Logger): Promise<number> {
  const snapshot = await wireJob(settings, logger, () => new Date()).status.read();
  const now = Date.now();
  for (const key of snapshot.malformed) logger.warn('unreadable status entry skipped', { key });
  const rows = snapshot.certificates.map((c) => {
    const left = c.notAfter ? new Date(c.notAfter).getTime() - now : undefined;
    return [
      c.namespace,
      c.secretName,
      c.hosts.join(','),
      c.notAfter ?? '-',
      left === undefined ? '-' : left <= 0 ? 'expired' : roundDuration(left),
      c.result,
      c.reason,
      c.failures > 0 ? `${c.failures} failures, next ${c.retryAfter ?? '?'}` : '',
    ];
  });
  process.stdout.write(
    formatTable(
      ['NAMESPACE', 'SECRET', 'HOSTS', 'NOT AFTER', 'LEFT', 'RESULT', 'REASON', 'RETRY'],
      rows,
    ) + '\n',
  );
  const run = snapshot.run;
  if (!run) {
    process.stdout.write('\nNo run has finished yet.\n');
    return 1;
  }
  const age = now - new Date(run.finishedAt).getTime();
  process.stdout.write(
    `\nLast run: ${run.result} at ${run.finishedAt} (${roundDuration(age)} ago): ${run.entries} entries, ${run.issued} issued, ${run.renewed} renewed, ${run.valid} valid, ${run.skipped} skipped, ${run.failed} failed.\n`,
  );
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
