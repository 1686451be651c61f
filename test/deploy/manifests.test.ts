/**
 * Layer: integration. The install manifests against the real kube-apiserver: the kustomize base and the Helm chart
 * are accepted by a server-side dry run, render the same objects, carry every LEGO_* setting,
 * and every pod they make is admitted under the restricted Pod Security Standard.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ApiException, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { jobSettings } from '../../jobs/config.js';
import { responderSettings } from '../../responder/settings.js';
import { parseDuration } from '../../shared/duration.js';
import { adminKubeConfig, createNamespace } from '../env/context.js';
import {
  CHART,
  ROOT,
  find,
  helmBinary,
  serverDryRun,
  ofKind,
  podTemplates,
  renderHelm,
  renderHelmNotes,
  renderKustomize,
  withoutHelmMarks,
  type KubeObject,
  type PodSpec,
} from './render.js';

/** Every setting of both programs, by its key in jobs/config.ts or responder/settings.ts. */
const ALL_SETTINGS = { ...responderSettings, ...jobSettings };

const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
};

/** The cron schedule that runs every `interval` (the rule docs/operating.md states). */
function scheduleFor(interval: string): string | undefined {
  const ms = parseDuration(interval);
  if (ms === undefined) return undefined;
  const minutes = ms / 60_000;
  if (minutes === 24 * 60) return '0 0 * * *';
  if (minutes === 60) return '0 * * * *';
  if (minutes % 60 === 0 && 24 % (minutes / 60) === 0) return `0 */${minutes / 60} * * *`;
  if (Number.isInteger(minutes) && minutes < 60 && 60 % minutes === 0)
    return `*/${minutes} * * * *`;
  return undefined;
}

const kustomize = renderKustomize();
// Less the first-run hook Job, which has no kustomize counterpart (test/deploy/chart-values.test.ts).
const helm = renderHelm().filter((o) => o.metadata.annotations?.['helm.sh/hook'] === undefined);

function settingsOf(objects: KubeObject[], name = 'kube-lego-settings'): Record<string, string> {
  return find(objects, 'ConfigMap', name).data as Record<string, string>;
}

function cronJobSpec(objects: KubeObject[]): Record<string, unknown> & {
  jobTemplate: { spec: Record<string, unknown> };
} {
  return ofKind(objects, 'CronJob')[0]!.spec as Record<string, unknown> & {
    jobTemplate: { spec: Record<string, unknown> };
  };
}

describe('settings', () => {
  test('the settings ConfigMap has every LEGO_* setting, each at its default', () => {
    const data = settingsOf(kustomize);
    const expected: Record<string, string> = {};
    for (const spec of Object.values(ALL_SETTINGS)) {
      // LEGO_NAMESPACE is each pod's own namespace, from the downward API (checked below).
      if (spec.env !== 'LEGO_NAMESPACE') expected[spec.env] = spec.default ?? '';
    }
    assert.deepEqual(
      Object.keys(data).sort(),
      Object.keys(expected).sort(),
      'ConfigMap keys vs settings',
    );
    for (const [env, value] of Object.entries(expected)) {
      assert.equal(data[env], value, `${env} should be its default`);
    }
  });

  test('both pods load the settings and take LEGO_NAMESPACE from their namespace', () => {
    for (const { owner, template } of podTemplates(kustomize)) {
      const container = template.spec.containers[0]!;
      assert.deepEqual(
        container.envFrom,
        [{ configMapRef: { name: 'kube-lego-settings' } }],
        owner,
      );
      assert.deepEqual(
        container.env,
        [
          {
            name: 'LEGO_NAMESPACE',
            valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
          },
        ],
        owner,
      );
    }
  });

  test('the chart has a value for every setting, and renders the same ConfigMap', () => {
    const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      settings: Record<string, unknown>;
    };
    const expected = Object.keys(ALL_SETTINGS)
      .filter((key) => key !== 'namespace')
      .sort();
    assert.deepEqual(Object.keys(values.settings).sort(), expected);
    assert.deepEqual(settingsOf(helm), settingsOf(kustomize));
  });

  test('each chart value reaches its variable', () => {
    // Values the schema (values.schema.json) accepts, each different from its default.
    const valid: Record<string, string> = {
      email: 'value-of-email@example.com',
      url: 'https://value-of-url.example/directory',
      acmeTimeout: '31s',
      kubeTimeout: '29s',
      stopGracePeriod: '19s',
      minimumValidity: '721h',
      selfCheckWait: '11s',
      backoffMaxElapsedTime: '6m',
      backoffInitialInterval: '29s',
      leaseDuration: '61s',
      runBudget: '44m',
      maxOrdersPerRun: '99',
      keyType: 'ecdsa-p384',
      rsaKeySize: '4096',
      selfCheck: 'false',
      renewalInfo: 'false',
      ipCertificates: 'true',
      selfCheckPort: '81',
      port: '8081',
      metricsPort: '9091',
      supportedIngressProvider: 'gce',
      defaultIngressProvider: 'gce',
      sources: 'gateway',
      gatewayHttpPort: '8000',
      logLevel: 'warn',
      logType: 'json',
    };
    const set: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const [key, spec] of Object.entries(ALL_SETTINGS)) {
      if (key === 'namespace') continue;
      const value = valid[key] ?? `value-of-${key.toLowerCase()}`;
      set[`settings.${key}`] = value;
      want[spec.env] = value;
    }
    // Checked values elsewhere (ports, the schedule) must stay valid for the chart to render.
    const rendered = renderHelm({
      setString: { ...set, 'settings.checkInterval': '8h', schedule: '0 1 * * *' },
    });
    const data = settingsOf(rendered);
    for (const [env, value] of Object.entries(want)) {
      if (env === 'LEGO_CHECK_INTERVAL') continue;
      assert.equal(data[env], value, env);
    }
  });

  test('docs/operating.md maps every setting to its Helm value', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'operating.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(LEGO_[A-Z_]+)` \| `settings\.(\w+)` \|/gm)].map(
      ([, env, key]) => `${env!}=${key!}`,
    );
    const expected = Object.entries(ALL_SETTINGS)
      .filter(([key]) => key !== 'namespace')
      .map(([key, spec]) => `${spec.env}=${key}`);
    assert.deepEqual(rows.sort(), expected.sort());
  });
});

describe('kustomize and Helm render the same objects', () => {
  test('the same kinds and names, less the Namespace (helm install --create-namespace)', () => {
    const names = (objects: KubeObject[]) =>
      objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
    assert.deepEqual(names(helm), names(kustomize.filter((o) => o.kind !== 'Namespace')));
  });

  test('every object is equal but for the labels Helm adds', () => {
    for (const object of kustomize) {
      if (object.kind === 'Namespace') continue;
      const counterpart = find(helm, object.kind, object.metadata.name);
      assert.deepEqual(
        withoutHelmMarks(counterpart),
        object,
        `${object.kind}/${object.metadata.name}`,
      );
    }
  });

  test('Helm labels every object and pod as its release', () => {
    for (const object of helm) {
      assert.equal(object.metadata.labels?.['app.kubernetes.io/instance'], 'kube-lego');
      assert.equal(object.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    }
    for (const { template } of podTemplates(helm)) {
      assert.equal(template.metadata?.labels?.['app.kubernetes.io/instance'], 'kube-lego');
    }
  });
});

describe('the CronJob', () => {
  test('LEGO_RUN_BUDGET stays below activeDeadlineSeconds, with room to finish the run', () => {
    // After the budget: the order in progress (LEGO_STOP_GRACE_PERIOD is what a stop allows
    // it), the cleanup and the status write. Kept in both renders and in the program's default.
    for (const [name, objects] of [
      ['kustomize', kustomize],
      ['helm', helm],
    ] as const) {
      const settings = settingsOf(objects);
      const budgetMs = parseDuration(settings.LEGO_RUN_BUDGET!);
      assert.ok(budgetMs !== undefined, `${name}: LEGO_RUN_BUDGET is a duration`);
      assert.equal(
        budgetMs,
        parseDuration(jobSettings.runBudget.default ?? ''),
        `${name}: the default`,
      );
      const deadlineMs = Number(cronJobSpec(objects).jobTemplate.spec.activeDeadlineSeconds) * 1000;
      const graceMs = parseDuration(settings.LEGO_STOP_GRACE_PERIOD!)!;
      assert.ok(
        budgetMs + 5 * 60_000 + graceMs <= deadlineMs,
        `${name}: LEGO_RUN_BUDGET ${settings.LEGO_RUN_BUDGET!} leaves at least 5m and the stop grace period before the ${deadlineMs / 1000}s deadline`,
      );
    }
  });

  test('the chart refuses a run budget that leaves no time before activeDeadlineSeconds', () => {
    const refused =
      /settings\.runBudget "(58m|26m)", plus settings\.stopGracePeriod "20s" and 5m to finish the run, exceeds job\.activeDeadlineSeconds \((3600|1800)\): the Job would be killed before writing its status/;
    assert.throws(() => renderHelm({ set: { 'settings.runBudget': '58m' } }), refused);
    assert.throws(
      () =>
        renderHelm({ set: { 'settings.runBudget': '26m', 'job.activeDeadlineSeconds': '1800' } }),
      refused,
    );
    // 24m + 20s + 5m fits in 1800s; a form the chart cannot add up (0.5h) is left to
    // the job, which validates it.
    const fitting: Record<string, string>[] = [
      { 'settings.runBudget': '24m', 'job.activeDeadlineSeconds': '1800' },
      { 'settings.runBudget': '0.5h' },
    ];
    for (const set of fitting) {
      const job = cronJobSpec(renderHelm({ set }));
      assert.ok(job.jobTemplate.spec.activeDeadlineSeconds, JSON.stringify(set));
    }
  });

  test('runs every LEGO_CHECK_INTERVAL, one at a time, bounded and with history', () => {
    const spec = cronJobSpec(kustomize);
    assert.equal(spec.schedule, scheduleFor(settingsOf(kustomize).LEGO_CHECK_INTERVAL!));
    assert.equal(spec.schedule, '0 */8 * * *');
    assert.equal(spec.timeZone, 'Etc/UTC');
    assert.equal(spec.concurrencyPolicy, 'Forbid');
    assert.equal(spec.startingDeadlineSeconds, 3600);
    assert.equal(spec.successfulJobsHistoryLimit, 3);
    assert.equal(spec.failedJobsHistoryLimit, 3);
    // No Job retries: a non-zero exit means the run itself could not work (README, exit codes).
    assert.equal(spec.jobTemplate.spec.backoffLimit, 0);
    assert.equal(spec.jobTemplate.spec.activeDeadlineSeconds, 3600);
    const [job] = podTemplates(kustomize).filter((t) => t.owner.startsWith('CronJob'));
    assert.equal(job!.template.spec.restartPolicy, 'Never');
    // A small young generation; no option that changes V8's flag hash, so the start reads Node's
    // code caches (jobs/lean-heap.ts switches to the small heap after the start).
    assert.deepEqual(job!.template.spec.containers[0]!.args, [
      '--max-semi-space-size=1',
      'dist/jobs/main.js',
      'run',
    ]);
    // The job pod must not carry the responder's `app` label: the nginx Service selects by it.
    assert.equal(job!.template.metadata?.labels?.app, undefined);
  });

  test('Helm derives the schedule from settings.checkInterval, or takes `schedule`', () => {
    for (const interval of [
      '1h',
      '2h',
      '3h',
      '4h',
      '6h',
      '8h',
      '12h',
      '24h',
      '15m',
      '30m',
      '60m',
    ]) {
      const spec = cronJobSpec(renderHelm({ setString: { 'settings.checkInterval': interval } }));
      assert.equal(spec.schedule, scheduleFor(interval), interval);
    }
    assert.throws(
      () => renderHelm({ setString: { 'settings.checkInterval': '7h' } }),
      /settings\.checkInterval "7h" has no cron equivalent/,
    );
    assert.throws(
      () => renderHelm({ setString: { 'settings.checkInterval': '1h30m' } }),
      /no cron equivalent/,
    );
    const explicit = renderHelm({
      setString: { 'settings.checkInterval': '7h', schedule: '0 3 * * *' },
    });
    assert.equal(cronJobSpec(explicit).schedule, '0 3 * * *');
    assert.equal(settingsOf(explicit).LEGO_CHECK_INTERVAL, '7h');
  });
});

describe('the responder', () => {
  const deployment = find(kustomize, 'Deployment', 'kube-lego-responder');
  const spec = deployment.spec as {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
  const container = spec.template.spec.containers[0]!;

  test('runs at least two replicas kept by a PodDisruptionBudget', () => {
    assert.ok(spec.replicas >= 2);
    const pdb = find(kustomize, 'PodDisruptionBudget', 'kube-lego-responder').spec as {
      minAvailable: number;
      selector: { matchLabels: Record<string, string> };
    };
    assert.equal(pdb.minAvailable, 1);
    assert.deepEqual(pdb.selector.matchLabels, spec.selector.matchLabels);
  });

  test('its pods carry app: LEGO_SERVICE_SELECTOR, which its Service and selector use', () => {
    const selector = settingsOf(kustomize).LEGO_SERVICE_SELECTOR!;
    assert.equal(spec.template.metadata.labels.app, selector);
    for (const [k, v] of Object.entries(spec.selector.matchLabels)) {
      assert.equal(spec.template.metadata.labels[k], v);
    }
    const service = find(kustomize, 'Service', 'kube-lego-responder').spec as {
      selector: Record<string, string>;
      ports: { name: string; port: number; targetPort: string }[];
    };
    assert.deepEqual(service.selector, spec.selector.matchLabels);
    assert.deepEqual(
      service.ports.map((p) => p.targetPort),
      ['http', 'metrics'],
    );
  });

  test('listens on LEGO_PORT and LEGO_METRICS_PORT, probed on /healthz and /readyz', () => {
    const data = settingsOf(kustomize);
    assert.deepEqual(container.ports, [
      { name: 'http', containerPort: Number(data.LEGO_PORT) },
      { name: 'metrics', containerPort: Number(data.LEGO_METRICS_PORT) },
    ]);
    assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.args, [
      '--max-semi-space-size=1',
      '--no-concurrent-recompilation',
      '--expose-gc',
      'dist/responder/main.js',
    ]);
  });

  test('Helm: replicas, ports and selector follow the values; one replica has no PDB', () => {
    const rendered = renderHelm({
      set: {
        'responder.replicas': '3',
        'settings.port': '8081',
        'settings.metricsPort': '9091',
        'settings.serviceSelector': 'acme-responder',
      },
    });
    const d = find(rendered, 'Deployment', 'kube-lego-responder').spec as typeof spec;
    assert.equal(d.replicas, 3);
    assert.equal(d.template.metadata.labels.app, 'acme-responder');
    assert.deepEqual(
      d.template.spec.containers[0]!.ports!.map((p) => p.containerPort),
      [8081, 9091],
    );
    assert.equal(settingsOf(rendered).LEGO_PORT, '8081');
    const single = renderHelm({ set: { 'responder.replicas': '1' } });
    assert.equal(ofKind(single, 'PodDisruptionBudget').length, 0);
  });
});

describe('every pod: restricted profile, resources, tokens only where needed', () => {
  for (const [source, objects] of [
    ['kustomize', kustomize],
    ['helm', helm],
  ] as const) {
    for (const { owner, template } of podTemplates(objects)) {
      test(`${source} ${owner}`, () => {
        const pod = template.spec;
        assert.deepEqual(pod.securityContext, {
          runAsNonRoot: true,
          runAsUser: 65532,
          runAsGroup: 65532,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        // Both programs call the API (the job writes, the responder watches its ConfigMaps).
        assert.equal(pod.automountServiceAccountToken, true);
        for (const c of pod.containers) {
          assert.deepEqual(c.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'requests');
          assert.ok(c.resources?.limits?.cpu && c.resources.limits.memory, 'limits');
        }
      });
    }
  }

  test('the ServiceAccounts mount no token unless a pod asks for one', () => {
    for (const objects of [kustomize, helm]) {
      const accounts = ofKind(objects, 'ServiceAccount');
      assert.equal(accounts.length, 2);
      for (const a of accounts) assert.equal(a.automountServiceAccountToken, false);
    }
  });
});

describe('RBAC rules', () => {
  test('no rule grants deletecollection or a wildcard, and every delete is limited by name', () => {
    for (const [source, objects] of [
      ['kustomize', kustomize],
      ['helm', renderHelm({ setString: { 'settings.watchNamespace': 'shop' } })],
      ['helm', helm],
    ] as const) {
      for (const role of [...ofKind(objects, 'Role'), ...ofKind(objects, 'ClusterRole')]) {
        for (const rule of role.rules as {
          resources: string[];
          verbs: string[];
          resourceNames?: string[];
        }[]) {
          const where = `${source} ${role.kind}/${role.metadata.name} ${rule.resources.join()}`;
          assert.ok(!rule.verbs.includes('deletecollection'), `${where}: deletecollection`);
          assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*'), `${where}: *`);
          if (rule.verbs.includes('delete')) {
            assert.ok((rule.resourceNames ?? []).length > 0, `${where}: delete without names`);
          }
        }
      }
    }
  });
});

describe('against the API server', () => {
  let namespace: string;
  const core = adminKubeConfig().makeApiClient(CoreV1Api);

  before(async () => {
    namespace = await createNamespace('deploy-manifests', RESTRICTED);
  });

  for (const source of ['kustomize', 'helm'] as const) {
    test(`the ${source} output passes a server-side dry run with strict validation and no warnings`, async () => {
      const objects =
        source === 'kustomize'
          ? renderKustomize({ namespace })
          : renderHelm({ namespace, release: 'kube-lego' });
      if (source === 'kustomize') {
        // The overlay moved everything, the Namespace and the RBAC subjects included.
        const ns = find(objects, 'Namespace', namespace);
        assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
        for (const o of objects) {
          if (o.kind === 'Namespace' || o.kind.startsWith('Cluster')) continue;
          assert.equal(o.metadata.namespace, namespace, `${o.kind}/${o.metadata.name}`);
        }
        for (const binding of [
          ...ofKind(objects, 'RoleBinding'),
          ...ofKind(objects, 'ClusterRoleBinding'),
        ]) {
          for (const s of binding.subjects as { namespace: string }[]) {
            assert.equal(s.namespace, namespace, binding.metadata.name);
          }
        }
      }
      const result = await serverDryRun(objects);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /warning/i);
      const applied = result.stdout.trim().split('\n');
      assert.equal(applied.length, objects.length, result.stdout);
      for (const line of applied) assert.match(line, /serverside-applied \(server dry run\)$/);
    });
  }

  test('a Pod from each pod template is admitted under the restricted standard', async () => {
    for (const [source, objects] of [
      ['kustomize', kustomize],
      ['helm', helm],
    ] as const) {
      for (const { owner, template } of podTemplates(objects)) {
        const name = `${source}-${owner.split('/')[0]!.toLowerCase()}`;
        const pod: V1Pod = {
          metadata: { name, labels: template.metadata?.labels },
          spec: template.spec as V1Pod['spec'],
        };
        const created = await core.createNamespacedPod({ namespace, body: pod });
        assert.equal(created.metadata?.name, name);
      }
    }
  });

  test('the namespace does enforce it: the same Pod without its security settings is refused', async () => {
    const spec = structuredClone(podTemplates(kustomize)[0]!.template.spec);
    delete spec.securityContext;
    for (const c of spec.containers) delete c.securityContext;
    await assert.rejects(
      core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'unrestricted' }, spec: spec as V1Pod['spec'] },
      }),
      (error: unknown) => {
        assert.ok(error instanceof ApiException);
        assert.equal(error.code, 403);
        const status = JSON.parse(String(error.body)) as { message: string };
        assert.match(status.message, /violates PodSecurity "restricted:latest"/);
        return true;
      },
    );
  });
});

describe('Helm options', () => {
  test('helm lint --strict passes, with the defaults and with the narrow options', () => {
    for (const set of [
      [],
      ['--set', 'settings.watchNamespace=shop,settings.supportedIngressProvider=nginx'],
    ]) {
      const out = execFileSync(helmBinary(), ['lint', '--strict', CHART, ...set], {
        encoding: 'utf8',
      });
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test('settings.watchNamespace grants the cluster-wide rules in that namespace only', () => {
    const rendered = renderHelm({ setString: { 'settings.watchNamespace': 'shop' } });
    assert.equal(ofKind(rendered, 'ClusterRoleBinding').length, 0);
    const bindings = ofKind(rendered, 'RoleBinding').filter((b) => b.metadata.namespace === 'shop');
    assert.deepEqual(bindings.map((b) => b.metadata.name).sort(), [
      'kube-lego-job',
      'kube-lego-job-gce',
    ]);
    for (const b of bindings) {
      assert.equal((b.roleRef as { kind: string }).kind, 'ClusterRole');
      assert.deepEqual(b.subjects, [
        { kind: 'ServiceAccount', name: 'kube-lego-job', namespace: 'kube-lego' },
      ]);
    }
  });

  test('without the gce provider the job cannot change users’ Ingresses, Services or EndpointSlices', () => {
    const rendered = renderHelm({ setString: { 'settings.supportedIngressProvider': 'nginx' } });
    assert.equal(
      rendered.some((o) => o.metadata.name === 'kube-lego-job-gce'),
      false,
    );
    const rules = find(rendered, 'ClusterRole', 'kube-lego-job').rules as {
      resources: string[];
      verbs: string[];
    }[];
    assert.deepEqual(
      rules.map((r) => `${r.resources.join()}:${r.verbs.join()}`),
      [
        'ingresses:list',
        'gateways:list',
        'secrets:get,list,create,update',
        'events:create,get,patch',
      ],
    );
    const gceName = renderHelm({ setString: { 'settings.serviceNameGce': 'acme-gce' } });
    const names = (
      find(gceName, 'ClusterRole', 'kube-lego-job-gce').rules as {
        resourceNames?: string[];
      }[]
    ).flatMap((r) => r.resourceNames ?? []);
    assert.deepEqual(names, ['acme-gce', 'acme-gce-ipv4', 'acme-gce-ipv6']);
  });

  test('renamed objects are renamed in the Roles too', () => {
    const rendered = renderHelm({
      setString: {
        'settings.challengeConfigMap': 'acme-tokens',
        'settings.statusConfigMap': 'acme-status',
        'settings.leaseName': 'acme-lease',
        'settings.secretName': 'acme-account',
        'settings.serviceNameNginx': 'acme-responder',
        'settings.ingressNameNginx': 'acme-challenges',
        'settings.httpRouteName': 'acme-route',
      },
    });
    const names = (role: string) =>
      (find(rendered, 'Role', role).rules as { resourceNames?: string[] }[])
        .flatMap((r) => r.resourceNames ?? [])
        .sort();
    assert.deepEqual(names('kube-lego-responder'), ['acme-status', 'acme-tokens']);
    assert.deepEqual(names('kube-lego-job'), [
      'acme-account',
      'acme-challenges',
      'acme-lease',
      'acme-responder',
      'acme-route',
      'acme-status',
      'acme-tokens',
      // Not a setting: the one Secret of certificates obtained but not yet stored.
      'kube-lego-kept-certificates',
    ]);
  });

  test('another release name prefixes every name', () => {
    const rendered = renderHelm({ release: 'certs' });
    for (const o of rendered) assert.match(o.metadata.name, /^certs-kube-lego/);
    const binding = find(rendered, 'ClusterRoleBinding', 'certs-kube-lego-job');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'certs-kube-lego-job', namespace: 'kube-lego' },
    ]);
  });

  test('without image.repository, template and install fail saying how to build and push', () => {
    // No image is published yet: a default would install and then fail as ImagePullBackOff.
    const expected =
      /image\.repository is required: build and push the image first.*docker build -t REGISTRY\/kube-lego-ts:0\.1\.0 \..*npm run image:build && skopeo copy oci:\.tmp\/image\/oci:0\.1\.0 docker:\/\/REGISTRY\/kube-lego-ts:0\.1\.0.*--set image\.repository=REGISTRY\/kube-lego-ts/s;
    assert.throws(() => renderHelm({ imageRepository: null }), expected);
    assert.throws(() => renderHelmNotes({ imageRepository: null }), expected);
    assert.throws(() => renderHelm({ imageRepository: '' }), expected);
  });

  test('image.repository and image.tag name both pods’ image; the tag defaults to appVersion', () => {
    const chart = load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const images = (objects: KubeObject[]) =>
      podTemplates(objects).map(({ template }) => template.spec.containers[0]!.image);
    assert.deepEqual(images(renderHelm({ imageRepository: 'registry.example.com/kube-lego-ts' })), [
      `registry.example.com/kube-lego-ts:${chart.appVersion}`,
      `registry.example.com/kube-lego-ts:${chart.appVersion}`,
    ]);
    assert.deepEqual(
      images(
        renderHelm({
          imageRepository: 'registry.example.com/kube-lego-ts',
          setString: { 'image.tag': '0.2.0' },
        }),
      ),
      ['registry.example.com/kube-lego-ts:0.2.0', 'registry.example.com/kube-lego-ts:0.2.0'],
    );
  });

  test('the notes say how to renew at once and how to go to production', () => {
    const notes = renderHelmNotes({ namespace: 'certs' });
    assert.match(notes, /kubectl -n certs create job --from=cronjob\/kube-lego /);
    assert.match(notes, /STAGING/);
    assert.match(notes, /--set settings\.url=https:\/\/acme-v02\.api\.letsencrypt\.org\/directory/);
    const production = renderHelmNotes({
      setString: { 'settings.url': 'https://acme-v02.api.letsencrypt.org/directory' },
    });
    assert.doesNotMatch(production, /STAGING/);
    assert.match(production, /create job --from=cronjob\/kube-lego /);
  });
});
