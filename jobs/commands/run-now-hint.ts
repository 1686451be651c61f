/**
 * The one-liner `retry` and `renew` print to start a run now from the CronJob's template. Pure:
 * the lookup of the CronJob is the caller's (jobs/kube/run-cronjobs.ts).
 */

/** The default CronJob name of the kustomize manifests (manifests/cronjob.yaml). */
export const DEFAULT_RUN_CRONJOB = 'kube-lego';

/** What the lookup found: the labelled CronJobs' names, or why there are none to show. */
export type RunCronJobLookup = { names: readonly string[] } | { failed: string };

/**
 * The lines that tell the operator how to start a run now: `kubectl create job --from=` the one
 * labelled CronJob, or, when there is not exactly one, the manifests' default name with a
 * sentence saying why it is only a guess. `jobName` names the new Job.
 */
export function runNowHint(namespace: string, jobName: string, lookup: RunCronJobLookup): string {
  const command = (cronJob: string) =>
    `  kubectl -n ${namespace} create job --from=cronjob/${cronJob} ${jobName}`;
  if ('failed' in lookup)
    return `${command(DEFAULT_RUN_CRONJOB)}\n(CronJob name assumed: the CronJobs in ${namespace} could not be listed: ${lookup.failed})`;
  const [only, ...others] = lookup.names;
  if (only !== undefined && others.length === 0) return command(only);
  if (only === undefined)
    return `${command(DEFAULT_RUN_CRONJOB)}\n(CronJob name assumed: no CronJob in ${namespace} is labelled app.kubernetes.io/name=kube-lego,app.kubernetes.io/component=job)`;
  return (
    lookup.names.map(command).join('\n') +
    `\n(one of these: ${lookup.names.length} CronJobs in ${namespace} are labelled as kube-lego's)`
  );
}
