/**
 * `status`: the managed certificates as the last run recorded them — expiry, time left, result,
 * and for a failing one its last failure's reason and message, which back-off runs keep — and
 * the last run itself, with a warning when it is older than two check intervals (a CronJob that
 * stopped running is the renewal failure kube-lego users never saw). `--output wide|json`, and
 * `status <namespace>/<secret>` for one certificate with its last attempts. The output itself is
 * status-view.ts.
 */
import { isStagingDirectory } from '../../shared/acme-directory.js';
import { formatDuration } from '../../shared/duration.js';
import type { Logger } from '../../shared/logger.js';
import { statusKey } from '../../shared/status-entries.js';
import type { JobSettings } from '../config.js';
import { parseCertificateRef } from './certificate-ref.js';
import {
  formatCertificateView,
  formatStatusJson,
  formatStatusTable,
  isGoodResult,
  roundDuration,
  type OutputFormat,
} from './status-view.js';
import { wireJob, type CommandContext } from './wiring.js';

/** What `status` was asked for on the command line. */
export interface StatusOptions {
  /** `<namespace>/<secret>`: only this certificate, in full. */
  certificate?: string | undefined;
  output?: OutputFormat | undefined;
}

/**
 * Prints the status; exit code 1 when any certificate shown is not good (or the one asked for is
 * not recorded, or no run has finished), else 0.
 * @throws ConfigError when `options.certificate` is not `<namespace>/<secret>`.
 */
export async function statusCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
  options: StatusOptions = {},
): Promise<number> {
  const ref =
    options.certificate === undefined ? undefined : parseCertificateRef(options.certificate);
  const output = options.output ?? 'table';
  const snapshot = await (await wireJob(settings, logger, context)).status.read();
  const now = context.now();
  for (const key of snapshot.malformed) logger.warn('unreadable status entry skipped', { key });

  if (ref) {
    const key = statusKey(ref.namespace, ref.secretName);
    const entry = snapshot.certificates.find((c) => statusKey(c.namespace, c.secretName) === key);
    if (!entry) {
      process.stderr.write(
        `kube-lego: no certificate ${ref.namespace}/${ref.secretName} in the status ConfigMap ${settings.namespace}/${settings.statusConfigMap}; \`status\` lists the certificates the last run saw.\n`,
      );
      return 1;
    }
    process.stdout.write(
      (output === 'json' ? JSON.stringify(entry, null, 2) : formatCertificateView(entry, now)) +
        '\n',
    );
    return isGoodResult(entry) ? 0 : 1;
  }

  const run = snapshot.run;
  const bad = snapshot.certificates.filter((c) => !isGoodResult(c));
  if (output === 'json') {
    process.stdout.write(formatStatusJson(snapshot.certificates, run, snapshot.malformed) + '\n');
    return bad.length > 0 || !run ? 1 : 0;
  }
  process.stdout.write(formatStatusTable(snapshot.certificates, now, output === 'wide') + '\n');
  // ARI windows (RFC 9773) and the renewal time drawn in each.
  const windows = snapshot.certificates.flatMap((c) =>
    c.renewalInfo?.renewAt
      ? [
          `  ${c.namespace}/${c.secretName}: window ${c.renewalInfo.windowStart} to ${c.renewalInfo.windowEnd}, renewal at ${c.renewalInfo.renewAt}, next ask ${c.renewalInfo.nextAskAt}`,
        ]
      : [],
  );
  if (windows.length > 0) process.stdout.write(`\nRenewal windows (ARI):\n${windows.join('\n')}\n`);
  // Staging certificates look like real ones in a table: say so, by name.
  const staging = snapshot.certificates.filter(
    (c) => c.directoryUrl !== undefined && isStagingDirectory(c.directoryUrl),
  );
  if (staging.length > 0) {
    process.stdout.write(
      `\nSTAGING: ${staging.length} certificate(s) issued by a staging directory, not trusted by browsers: ${staging.map((c) => `${c.namespace}/${c.secretName}`).join(', ')}.\n`,
    );
  }
  if (run?.directoryUrl) {
    process.stdout.write(
      `\nACME directory: ${run.directoryUrl}${isStagingDirectory(run.directoryUrl) ? ' (STAGING: certificates it issues are not trusted by browsers)' : ''}\n`,
    );
  }
  if (!run) {
    process.stdout.write('\nNo run has finished yet.\n');
    return 1;
  }
  const age = now.getTime() - new Date(run.finishedAt).getTime();
  process.stdout.write(
    `\nLast run: ${run.result} at ${run.finishedAt} (${roundDuration(age)} ago): ${run.entries} entries, ${run.issued} issued, ${run.renewed} renewed, ${run.valid} valid, ${run.skipped} skipped, ${run.failed} failed${run.deferred ? `, ${run.deferred} deferred to the next run (its time or order budget was spent)` : ''}.\n`,
  );
  if (run.reason) {
    process.stdout.write(`The run stopped early (${run.reason}): ${run.message ?? ''}\n`);
  }
  if (age > 2 * settings.checkInterval) {
    process.stdout.write(
      `WARNING: the last run is older than twice LEGO_CHECK_INTERVAL (${formatDuration(settings.checkInterval)}); is the CronJob running?\n`,
    );
  }
  if (bad.length > 0) {
    process.stdout.write(
      `\n${bad.length} certificate(s) not valid. Details: status <namespace>/<secret>; after fixing the cause: retry <namespace>/<secret> (or retry --all-failed).\n`,
    );
  }
  return bad.length > 0 ? 1 : 0;
}
