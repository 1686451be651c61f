/**
 * Integration (helm and the real API server): the chart's values schema refuses a mistyped key
 * or a bad value at `helm template` / `helm lint` (so at `helm install`), with the schema's
 * message; the first-run hook Job is the CronJob's own job, and the API server accepts it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { KEY_TYPES } from '../../jobs/key-type.js';
import { PROVIDER_ALIASES, PROVIDERS } from '../../jobs/model.js';
import { LOG_LEVELS, LOG_TYPES } from '../../shared/logger.js';
import { createNamespace } from '../env/context.js';
import {
  CHART,
  find,
  helmBinary,
  serverDryRun,
  ofKind,
  renderHelm,
  renderHelmNotes,
  type KubeObject,
} from './render.js';

interface Schema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  oneOf?: Schema[];
}

const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** Runs helm with `args`; resolves with its exit code and output (never rejects). */
function helm(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(helmBinary(), args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({
        code: error ? ((error.code as number | undefined) ?? 1) : 0,
        output: stdout + stderr,
      });
    });
  });
}

/** Bad values, each with the message the schema gives for it. */
const BAD: { what: string; set: string[]; message: RegExp }[] = [
  {
    what: 'a mistyped setting (settings.emial)',
    set: ['--set', 'settings.emial=ops@example.com'],
    message: /at '\/settings': additional properties? 'emial' not allowed/,
  },
  {
    what: 'a key type that does not exist (keyType: ec256)',
    set: ['--set', 'settings.keyType=ec256'],
    message: /at '\/settings\/keyType': value must be one of 'rsa', 'ecdsa-p256', 'ecdsa-p384'/,
  },
  {
    what: 'a port out of range',
    set: ['--set', 'settings.port=70000'],
    message: /at '\/settings\/port'/,
  },
  {
    what: 'a duration that is not one (minimumValidity: 30 days)',
    set: ['--set', 'settings.minimumValidity=30 days'],
    message: /at '\/settings\/minimumValidity'/,
  },
  {
    what: 'a mistyped top-level key (respnder)',
    set: ['--set', 'respnder.replicas=3'],
    message: /additional properties? 'respnder' not allowed/,
  },
];

describe('values.schema.json', () => {
  for (const bad of BAD) {
    test(`helm template and helm lint refuse ${bad.what}, with the schema's message`, async () => {
      for (const command of [
        ['template', 'kube-lego', CHART],
        ['lint', '--strict', CHART],
      ]) {
        const result = await helm([...command, ...bad.set]);
        assert.notEqual(result.code, 0, `helm ${command[0]} accepted it:\n${result.output}`);
        assert.match(result.output, /values don't meet the specifications of the schema/);
        assert.match(result.output, bad.message);
      }
    });
  }

  test('the defaults and valid values pass', async () => {
    for (const set of [
      [],
      ['--set', 'settings.keyType=ecdsa-p384,settings.rsaKeySize=4096,settings.port=8081'],
      ['--set-string', 'settings.selfCheckPort=8080,settings.minimumValidity=1h30m'],
      ['--set', 'monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true'],
    ]) {
      const result = await helm(['lint', '--strict', CHART, ...set]);
      assert.equal(result.code, 0, `${set.join(' ')}:\n${result.output}`);
    }
  });

  test('it lists every value of values.yaml, and nothing else', () => {
    const check = (node: Schema, value: unknown, path: string) => {
      if (node.type !== 'object' || node.additionalProperties !== false) return;
      const keys = Object.keys(node.properties ?? {}).filter((k) => k !== 'global');
      assert.deepEqual(keys.sort(), Object.keys(value as object).sort(), path);
      for (const key of keys) {
        check(node.properties![key]!, (value as Record<string, unknown>)[key], `${path}.${key}`);
      }
    };
    check(schema, values, 'values');
  });

  test('its enumerations are the programs’ own (key types, log levels and formats, providers)', () => {
    const settings = schema.properties!.settings!.properties!;
    assert.deepEqual(settings.keyType!.enum, [...KEY_TYPES]);
    assert.deepEqual(settings.logLevel!.enum, [...LOG_LEVELS]);
    assert.deepEqual(settings.logType!.enum, [...LOG_TYPES]);
    assert.deepEqual(settings.defaultIngressProvider!.enum, [
      '',
      ...PROVIDERS,
      ...Object.keys(PROVIDER_ALIASES),
    ]);
    assert.deepEqual(schema.properties!.image!.required, ['repository']);
  });
});

/** The first-run hook Job of a rendering; throws naming what is there when it is missing. */
function firstRun(objects: KubeObject[]): KubeObject {
  return find(objects, 'Job', 'kube-lego-first-run');
}

describe('the first run', () => {
  const rendered = renderHelm();

  test('a post-install and post-upgrade hook Job with the CronJob’s own job spec', () => {
    const job = firstRun(rendered);
    assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'post-install,post-upgrade');
    assert.equal(job.metadata.annotations?.['helm.sh/hook-delete-policy'], 'before-hook-creation');
    const cron = ofKind(rendered, 'CronJob')[0]!.spec as { jobTemplate: { spec: unknown } };
    assert.deepEqual(job.spec, cron.jobTemplate.spec);
    // No Job retries: a non-zero exit means the run itself could not work (README, exit codes).
    assert.equal((job.spec as { backoffLimit?: number }).backoffLimit, 0);
    assert.equal(job.metadata.labels?.['app.kubernetes.io/component'], 'job');
  });

  test('firstRun.onUpgrade=false: after install only; firstRun.enabled=false: none', () => {
    const installOnly = firstRun(renderHelm({ set: { 'firstRun.onUpgrade': 'false' } }));
    assert.equal(installOnly.metadata.annotations?.['helm.sh/hook'], 'post-install');
    const none = renderHelm({ set: { 'firstRun.enabled': 'false' } });
    assert.equal(ofKind(none, 'Job').length, 0);
  });

  test('the notes say how to watch it, or how to start one when it is off', () => {
    const notes = renderHelmNotes({ namespace: 'certs' });
    assert.match(notes, /kubectl -n certs logs job\/kube-lego-first-run/);
    assert.match(notes, /get jobs -l app\.kubernetes\.io\/component=job --watch/);
    const off = renderHelmNotes({ namespace: 'certs', set: { 'firstRun.enabled': 'false' } });
    assert.doesNotMatch(off, /first-run/);
    assert.match(off, /next scheduled time/);
  });

  describe('against the API server', () => {
    let namespace: string;
    before(async () => {
      // `warn`: the API server warns about a Job whose pod template breaks the profile.
      namespace = await createNamespace('deploy-first-run', {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      });
    });

    test('the rendered Job passes a server-side dry run with strict validation', async () => {
      const job = firstRun(renderHelm({ namespace }));
      const result = await serverDryRun([job]);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /warning/i);
      assert.match(
        result.stdout.trim(),
        /^job\.batch\/kube-lego-first-run serverside-applied \(server dry run\)$/,
      );
    });
  });
});
