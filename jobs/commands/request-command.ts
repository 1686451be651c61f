/**
 * What `retry` and `renew` share: read the status, choose the certificates
 * (request-targets.ts), and record a request for each in the status ConfigMap
 * (jobs/kube/status-store.ts). The next run honours the request and removes it; the command
 * prints the one-liner that starts that run now from the CronJob's template.
 */
import { ConfigError, describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import type { RequestKind } from '../decide/operator-requests.js';
import { parseCertificateRef } from './certificate-ref.js';
import type { CertificateStatus } from '../../shared/status-entries.js';
import { selectRequestTargets, type RequestScope } from './request-targets.js';
import { wireJob, type CommandContext } from './wiring.js';
import { runNowHint } from './run-now-hint.js';

/** The command line of `retry`/`renew`: one certificate or every one that qualifies. */
export interface RequestOptions {
  certificate?: string | undefined;
  all?: boolean | undefined;
}

/**
 * Leaves a `kind` request for the certificates `options` name; exit code 0 when every one asked
 * for got it (or needed none), 1 otherwise.
 * @throws ConfigError when neither or both of a certificate and `--all…` are given, or the
 *   certificate is not `<namespace>/<secret>`.
 */
export async function requestCommand(
  kind: RequestKind,
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
  options: RequestOptions,
): Promise<number> {
  const scope = scopeOf(kind, options);
  const job = await wireJob(settings, logger, context);
  const { certificates } = await job.status.read();
  const { targets, refusals } = selectRequestTargets(kind, scope, certificates);
  let failed = refusals.some((r) => !r.harmless);
  for (const refusal of refusals) process.stdout.write(`${refusal.message}\n`);
  if ('all' in scope && targets.length === 0)
    process.stdout.write(
      kind === 'retry'
        ? 'No certificate is failing: nothing to retry.\n'
        : 'No certificate to renew.\n',
    );
  let requested = 0;
  for (const target of targets) {
    try {
      const key = await job.status.addRequest(kind, target, context.now().toISOString());
      requested++;
      process.stdout.write(`${describeRequest(kind, target, key, settings)}\n`);
    } catch (error) {
      failed = true;
      process.stdout.write(
        `${target.namespace}/${target.secretName}: the request could not be written: ${describeError(error)}\n`,
      );
    }
  }
  if (requested > 0) {
    const name = `kube-lego-${kind}-${Math.floor(context.now().getTime() / 1000)}`;
    const hint = runNowHint(settings.namespace, name, await job.runCronJobs());
    process.stdout.write(
      `\nThe next run honours ${requested === 1 ? 'it' : `these ${requested}`} and removes the request. To run now:\n${hint}\n`,
    );
  }
  return failed ? 1 : 0;
}

function scopeOf(kind: RequestKind, options: RequestOptions): RequestScope {
  const flag = kind === 'retry' ? '--all-failed' : '--all';
  if ((options.certificate === undefined) === !options.all) {
    throw new ConfigError(
      kind,
      options.certificate ?? '',
      `either <namespace>/<secret> or ${flag}, not both and not neither`,
    );
  }
  return options.certificate === undefined
    ? { all: true }
    : { certificate: parseCertificateRef(options.certificate) };
}

/** One line per request written, with what the operator is acting on. */
function describeRequest(
  kind: RequestKind,
  c: CertificateStatus,
  key: string,
  settings: Pick<JobSettings, 'namespace' | 'statusConfigMap'>,
): string {
  const where = `recorded as ${key} in ConfigMap ${settings.namespace}/${settings.statusConfigMap}`;
  const head = `${kind === 'retry' ? 'Retry' : 'Renewal'} requested for ${c.namespace}/${c.secretName} (${c.hosts.join(', ')}): ${where}.`;
  if (c.failures > 0) {
    const cause = c.lastFailureReason
      ? ` Last failure ${c.lastFailureAt ?? ''}: ${c.lastFailureReason}: ${c.lastFailureMessage ?? ''}`
      : '';
    return `${head} It had ${c.failures} failed attempt${c.failures === 1 ? '' : 's'}; the back-off until ${c.retryAfter ?? '?'} is skipped.${cause}`;
  }
  return c.notAfter ? `${head} The current certificate is valid until ${c.notAfter}.` : head;
}
