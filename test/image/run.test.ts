/**
 * The image as a cluster runs it, under runc (Debian's package): the kustomize base installed
 * for real into a fresh namespace, a TokenRequest per ServiceAccount, and each token mounted with
 * the CA where a pod has them (/var/run/secrets/kubernetes.io/serviceaccount/) with
 * KUBERNETES_SERVICE_HOST/PORT set, so the in-cluster configuration is what the programs load
 * (no kubeconfig exists in the container). Each process runs as UID 65532 on a read-only root
 * file system with every capability dropped, with the arguments the manifests give it. End to
 * end: the containerised responder serves a challenge, the containerised job issues a
 * certificate from Pebble (whose CA it trusts through NODE_EXTRA_CA_CERTS, a mounted file), and
 * `plan` and `status` work from the image. Node's compile cache baked into the image is read
 * (every module's entry accepted, nothing written) and another user runs the same without it.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
} from '@kubernetes/client-node';
import { adminKubeConfig, claimPort, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { jobEnv } from '../support/job-process.js';
import { kubectlApply, podTemplates, renderKustomize, type KubeObject } from '../deploy/render.js';
import { ROOT, Setup, unpackImage } from './oci-image.js';
import {
  runContainer,
  startContainer,
  type Container,
  type Mount,
  type UnpackedImage,
} from './runc-container.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const PEBBLE_CA = '/etc/kube-lego-test/pebble-ca.crt';
/** The longest a hook or test may take: a container that hangs fails its test, not the run. */
const BOUND = { timeout: 180_000 };
/** The image's Node (test/env/install-node24.sh pins it; build.sh installs it). */
const NODE24_VERSION = /^NODE24_VERSION=(\S+)$/m.exec(
  readFileSync(join(ROOT, 'test', 'env', 'install-node24.sh'), 'utf8'),
)?.[1];

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const networking = admin.makeApiClient(NetworkingV1Api);

const setup = new Setup();
let work: string;
let image: UnpackedImage;
let lego: string;
let shop: string;
/** The manifests' arguments for each program (after the image's entry point). */
let jobArgs: string[];
let responderArgs: string[];
/** Per ServiceAccount: the folder mounted at SERVICE_ACCOUNT_DIR. */
const accounts: Record<'job' | 'responder', string> = { job: '', responder: '' };

/** A pod's ServiceAccount folder: token (TokenRequest), ca.crt, namespace; readable by 65532. */
async function serviceAccountFolder(name: string): Promise<string> {
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace: lego,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  assert.ok(token, `a token for ${name}`);
  const dir = join(work, `sa-${name}`);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, 'token'), token, { mode: 0o644 });
  copyFileSync(testEnv().caFile, join(dir, 'ca.crt'));
  chmodSync(join(dir, 'ca.crt'), 0o644);
  writeFileSync(join(dir, 'namespace'), lego, { mode: 0o644 });
  // Waits until the token's access reaches the authorizer (new bindings take moments).
  const config = new KubeConfig();
  config.loadFromClusterAndUser(
    {
      name: 'test',
      server: testEnv().apiServerUrl,
      caFile: testEnv().caFile,
      skipTLSVerify: false,
    },
    { name, token },
  );
  const review = config.makeApiClient(AuthorizationV1Api);
  const probe = name.startsWith('kube-lego-job')
    ? { verb: 'list', group: 'networking.k8s.io', resource: 'ingresses' }
    : {
        verb: 'watch',
        group: '',
        resource: 'configmaps',
        namespace: lego,
        name: 'kube-lego-challenges',
      };
  // New bindings reach the authorizer's cache within moments; a guard of 60 s, generous for a
  // loaded machine (this waits for a change, not a window).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await review.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: probe } },
    });
    if (answer.status?.allowed) break;
    if (Date.now() > deadline)
      throw new Error(`${name}'s token did not get ${JSON.stringify(probe)} within 60 s`);
    await sleep(200);
  }
  return dir;
}

/** What a pod of `account` has: the API's address, its token and CA, and Pebble's CA. */
function podEnvironment(account: 'job' | 'responder'): {
  env: Record<string, string>;
  mounts: Mount[];
} {
  const api = new URL(testEnv().apiServerUrl);
  return {
    env: {
      KUBERNETES_SERVICE_HOST: api.hostname,
      KUBERNETES_SERVICE_PORT: api.port,
      NODE_EXTRA_CA_CERTS: PEBBLE_CA,
    },
    mounts: [
      { source: accounts[account], destination: SERVICE_ACCOUNT_DIR },
      { source: join(work, 'pebble-ca.crt'), destination: PEBBLE_CA },
    ],
  };
}

/** The job's settings as in the tests of the process, less KUBECONFIG, for the installed base. */
function jobSettings(): Record<string, string> {
  return { ...jobEnv(lego), LEGO_WATCH_NAMESPACE: shop };
}

before(
  () =>
    setup.run(async () => {
      work = mkdtempSync(join(tmpdir(), 'kube-lego-runc-'));
      chmodSync(work, 0o755);
      unpackImage(join(work, 'image'));
      image = { bundle: join(work, 'image') };
      copyFileSync(testEnv().caFile, join(work, 'pebble-ca.crt'));
      chmodSync(join(work, 'pebble-ca.crt'), 0o644);

      lego = await createNamespace('image-runc', {
        'pod-security.kubernetes.io/enforce': 'restricted',
      });
      shop = await createNamespace('image-runc-shop');
      const suffix = `-${lego.slice(-6)}`;
      const objects: KubeObject[] = renderKustomize({ namespace: lego, nameSuffix: suffix }).filter(
        (o) => o.kind !== 'Namespace',
      );
      const applied = await kubectlApply(objects, [
        '--server-side',
        '--field-manager=kube-lego-test',
      ]);
      assert.equal(applied.code, 0, applied.stderr);
      for (const { owner, template } of podTemplates(objects)) {
        const args = template.spec.containers[0]!.args!;
        if (owner.startsWith('CronJob/')) jobArgs = args;
        else responderArgs = args;
      }
      accounts.job = await serviceAccountFolder(`kube-lego-job${suffix}`);
      accounts.responder = await serviceAccountFolder(`kube-lego-responder${suffix}`);
    }),
  BOUND,
);

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a process of the image under runc', () => {
  test(
    'runs as 65532 on a read-only root with no capabilities, on Node 24, without /bin/sh',
    BOUND,
    async () => {
      setup.check();
      const probe = [
        "const fs = require('node:fs');",
        'let write = "written";',
        "try { fs.writeFileSync('/app/x', ''); } catch (e) { write = e.code; }",
        'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(),',
        "  user: require('node:os').userInfo().username,",
        "  capEff: /CapEff:\\s*(\\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1],",
        "  sh: fs.existsSync('/bin/sh'), write, node: process.version, cwd: process.cwd() }));",
      ].join('\n');
      const result = await runContainer({ image, name: 'probe', args: ['-e', probe] });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        uid: 65532,
        gid: 65532,
        user: 'nonroot',
        capEff: '0000000000000000',
        sh: false,
        write: 'EROFS',
        node: `v${NODE24_VERSION}`,
        cwd: '/app',
      });
    },
  );

  test(
    'the image’s default command is the job, and a bad setting exits 2 naming it',
    BOUND,
    async () => {
      setup.check();
      const result = await runContainer({
        image,
        name: 'bad-setting',
        env: { LEGO_KEY_TYPE: 'dsa' },
      });
      assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, /LEGO_KEY_TYPE/);
    },
  );
});

describe('Node’s compile cache in the image', () => {
  /** The cache's debug lines (NODE_DEBUG_NATIVE=COMPILE_CACHE), one verdict per module. */
  const verdicts = (stderr: string) =>
    [...stderr.matchAll(/V8 code cache for \S+ (\S+) was (\w+(?: \w+)?)/g)].map(
      ([, file, verdict]) => `${verdict} ${file}`,
    );

  test(
    'the job and the responder read it on the read-only root, each file accepted, none written',
    BOUND,
    async () => {
      setup.check();
      for (const [name, args] of [
        // With the manifests' Node options: V8 refuses a cache made under other flags.
        ['job', [...jobArgs.filter((a) => a !== 'run'), '--help']],
        ['responder', [...responderArgs, '--help']],
      ] as const) {
        const result = await runContainer({
          image,
          name: `cache-${name}`,
          args: [...args],
          env: { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
        });
        assert.equal(result.code, 0, result.stderr.slice(-4000));
        const seen = verdicts(result.stderr);
        assert.ok(seen.length > 1, `${name}: modules compiled\n${result.stderr.slice(-4000)}`);
        assert.deepEqual(
          seen.filter((v) => !v.startsWith('accepted ')),
          [],
          `${name}: every module's cache accepted`,
        );
        assert.ok(
          seen.some((v) => v.endsWith(`/app/${args.find((a) => a.endsWith('main.js'))!}`)),
          `${name}: the entry point's own cache`,
        );
        assert.doesNotMatch(result.stderr, /Creating temporary file/, `${name}: nothing written`);
      }
    },
  );

  test(
    'another user (no cache of its own, none can be made): same output, nothing on stderr',
    BOUND,
    async () => {
      setup.check();
      const asImageUser = await runContainer({
        image,
        name: 'cache-user-image',
        args: ['dist/jobs/main.js', '--help'],
      });
      const asOther = await runContainer({
        image,
        name: 'cache-user-other',
        args: ['dist/jobs/main.js', '--help'],
        user: { uid: 1000, gid: 1000 },
      });
      assert.equal(asImageUser.code, 0, asImageUser.stderr);
      assert.equal(asOther.code, 0, asOther.stderr);
      assert.equal(asOther.stdout, asImageUser.stdout);
      assert.equal(asOther.stderr, '');
      assert.equal(asImageUser.stderr, '');
    },
  );
});

describe('end to end from the image: the responder serves, the job issues, plan and status', () => {
  let responder: Container | undefined;

  before(
    () =>
      setup.run(async () => {
        await networking.createNamespacedIngress({
          namespace: shop,
          body: annotatedIngress('shop', [
            { hosts: ['image.shop.example.com'], secretName: 'shop-tls' },
          ]),
        });
        const { env, mounts } = podEnvironment('responder');
        responder = startContainer({
          image,
          name: 'responder',
          args: responderArgs,
          mounts,
          env: {
            ...env,
            LEGO_NAMESPACE: lego,
            // Pebble's validator dials this one port for every HTTP-01 challenge.
            LEGO_PORT: String(testEnv().pebble.httpPort),
            LEGO_METRICS_PORT: String(claimPort()),
            LEGO_BIND_ADDRESS: '127.0.0.1',
            LEGO_LOG_TYPE: 'json',
            LEGO_LOG_LEVEL: 'debug',
          },
        });
        // Ready: it listed the challenge ConfigMap on its own token.
        await responder.waitForLog(
          (line) => line.includes('listed the ConfigMap') && line.includes('kube-lego-challenges'),
        );
      }),
    BOUND,
  );

  after(async () => {
    await responder?.stop();
  });

  test('the responder runs on the in-cluster configuration', BOUND, async () => {
    setup.check();
    const started = await responder!.waitForLog((line) => line.includes('responder started'));
    const record = JSON.parse(started) as Record<string, unknown>;
    assert.equal(record.credentials, 'in-cluster');
    assert.equal(record.api, testEnv().apiServerUrl);
  });

  test('the job issues a certificate from Pebble', BOUND, async () => {
    setup.check();
    const { env, mounts } = podEnvironment('job');
    const result = await runContainer({
      image,
      name: 'job',
      args: jobArgs,
      mounts,
      env: { ...env, ...jobSettings() },
    });
    console.log(
      `[image] the containerised job's run (exit ${result.code}):\n${result.stdout}${result.stderr}`,
    );
    assert.equal(result.code, 0, result.stderr.slice(-4000));
    const summary = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'run finished');
    assert.equal(summary?.issued, 1, result.stderr.slice(-4000));
    assert.equal(summary?.failed, 0);
    await assertValidTlsSecret(await readSecret(shop, 'shop-tls'), ['image.shop.example.com']);
    // Pebble fetched the token from the containerised responder (its log line crosses a pipe and
    // may come after the job has ended: wait for it).
    await responder!.waitForLog(
      (l) =>
        l.includes('/.well-known/acme-challenge/') &&
        l.includes('image.shop.example.com') &&
        l.includes('"status":200'),
    );
  });

  test('plan from the image: the certificate is up to date', BOUND, async () => {
    setup.check();
    const { env, mounts } = podEnvironment('job');
    const result = await runContainer({
      image,
      name: 'plan',
      args: [...jobArgs.filter((a) => a !== 'run'), 'plan'],
      mounts,
      env: { ...env, ...jobSettings(), LEGO_LOG_TYPE: 'text' },
    });
    console.log(`[image] plan from the image (exit ${result.code}):\n${result.stdout}`);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /shop-tls\s+image\.shop\.example\.com\s+\S+\s+UpToDate/);
  });

  test('status from the image: the issued certificate and the last run', BOUND, async () => {
    setup.check();
    const { env, mounts } = podEnvironment('job');
    const result = await runContainer({
      image,
      name: 'status',
      args: [...jobArgs.filter((a) => a !== 'run'), 'status'],
      mounts,
      env: { ...env, ...jobSettings(), LEGO_LOG_TYPE: 'text' },
    });
    console.log(`[image] status from the image (exit ${result.code}):\n${result.stdout}`);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /shop-tls\s+image\.shop\.example\.com\s+\S+\s+\S+\s+Issued/);
    assert.match(result.stdout, /Last run: Succeeded/);
  });
});
