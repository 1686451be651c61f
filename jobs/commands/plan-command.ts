/**
 * `plan`: what a run would do for every TLS entry, and why — without taking the Lease, ordering,
 * or writing anything. Prints a table on stdout; logs go to stderr. The ACME server is asked
 * nothing, except for one unauthenticated GET of the directory when LEGO_ACME_PROFILE is set
 * (to check the profile against the directory's `meta.profiles`).
 */
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import { describeError } from '../../shared/errors.js';
import { planSettingWarnings } from '../decide/profile-lifetime.js';
import { gatherAndDecide } from '../run/snapshot.js';
import { formatTable } from './table.js';
import { wireJob, type CommandContext } from './wiring.js';

/** Prints the plan; exit code 1 when any entry would fail or is invalid, else 0. */
export async function planCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
): Promise<number> {
  const job = await wireJob(settings, logger, context);
  const plan = await gatherAndDecide(job.gather, job.decisionSettings, context.now());
  const rows: string[][] = [];
  for (const d of plan.decisions) {
    rows.push([
      d.certificate.requesters[0]?.kind ?? 'Ingress',
      `${d.certificate.namespace}/${d.certificate.secretName}`,
      d.certificate.hosts.join(','),
      d.action.kind === 'Issue' ? (d.action.renewal ? 'Renew' : 'Issue') : d.action.kind,
      d.action.reason,
      d.action.message,
    ]);
  }
  for (const e of plan.invalid) {
    rows.push([
      e.ref.kind,
      `${e.ref.namespace}/${e.secretName ?? '-'}`,
      '-',
      'Invalid',
      e.reason,
      `${e.ref.namespace}/${e.ref.name} ${e.ref.kind === 'Gateway' ? `listener "${e.ref.listener ?? e.ref.index}"` : `tls[${e.ref.index}]`}: ${e.message}`,
    ]);
  }
  for (const s of plan.skipped) {
    rows.push([s.kind ?? 'Ingress', `${s.namespace}/${s.name}`, '-', 'Skip', s.reason, s.message]);
  }
  process.stdout.write(
    formatTable(['SOURCE', 'SECRET', 'HOSTS', 'DECISION', 'REASON', 'MESSAGE'], rows) + '\n',
  );
  // ARI windows as stored by the last run (plan asks the ACME server nothing).
  const windows = plan.decisions.flatMap((d) =>
    d.renewalWindow
      ? [
          `  ${d.certificate.namespace}/${d.certificate.secretName}: window ${d.renewalWindow.start.toISOString()} to ${d.renewalWindow.end.toISOString()}, renewal at ${d.renewalWindow.renewAt.toISOString()}`,
        ]
      : [],
  );
  if (windows.length > 0)
    process.stdout.write(`\nRenewal windows (ARI, as last asked):\n${windows.join('\n')}\n`);
  // Settings that do not fit what the directory issues (jobs/decide/profile-lifetime.ts): said
  // here, where the operator looks before a run; a run logs them once.
  const advertised = settings.acmeProfile
    ? await job.advertisedProfiles().catch((error: unknown) => {
        logger.warn('could not read the profiles the ACME directory offers', {
          directory: settings.url,
          error: describeError(error),
        });
        return undefined;
      })
    : undefined;
  const warnings = planSettingWarnings(plan, settings.acmeProfile, advertised);
  if (warnings.length > 0)
    process.stdout.write(
      `\nWarnings:\n${warnings.map((w) => `  ${w.reason}: ${w.message}`).join('\n')}\n`,
    );
  logger.debug('plan made', { apiRequests: job.apiRequests() });
  const failing =
    plan.invalid.length +
    plan.decisions.filter((d) => d.action.kind === 'Blocked' || d.action.kind === 'BackingOff')
      .length;
  return failing > 0 ? 1 : 0;
}
