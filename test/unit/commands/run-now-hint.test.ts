import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runNowHint } from '../../../jobs/commands/run-now-hint.js';

test('one labelled CronJob: the one-liner names it, with no guess', () => {
  assert.equal(
    runNowHint('certs', 'kube-lego-retry-1', { names: ['release-kube-lego'] }),
    '  kubectl -n certs create job --from=cronjob/release-kube-lego kube-lego-retry-1',
  );
});

test('none labelled: the manifests’ default name, said to be assumed and why', () => {
  const hint = runNowHint('kube-lego', 'job-1', { names: [] });
  assert.match(hint, /^ {2}kubectl -n kube-lego create job --from=cronjob\/kube-lego job-1\n/);
  assert.match(hint, /CronJob name assumed: no CronJob in kube-lego is labelled/);
});

test('the lookup failed (e.g. no right to list CronJobs): default name and the server’s message', () => {
  const hint = runNowHint('kube-lego', 'job-1', { failed: 'list CronJobs in kube-lego: 403' });
  assert.match(hint, /--from=cronjob\/kube-lego job-1\n/);
  assert.match(hint, /could not be listed: list CronJobs in kube-lego: 403\)$/);
});

test('several labelled: one line each, and a sentence saying to pick one', () => {
  const hint = runNowHint('ns', 'j', { names: ['a', 'b'] });
  assert.deepEqual(hint.split('\n'), [
    '  kubectl -n ns create job --from=cronjob/a j',
    '  kubectl -n ns create job --from=cronjob/b j',
    "(one of these: 2 CronJobs in ns are labelled as kube-lego's)",
  ]);
});
