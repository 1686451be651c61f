/**
 * cert-manager v1.21 as the peer of bench/reconcile.ts (issue 13, item 2): its CRDs, an Issuer
 * and Certificates over Secrets that already hold valid certificates, and a timed run of its
 * controllers (bench/peers/go/cert-manager, built and cached by `test/env/build-servers.sh
 * cert-manager` on first use) against the test environment's apiserver.
 *
 * "Synced", as the wrapper defines it (its package comment): every certificates-* controller
 * queue has finished at least one item per Certificate since the process started, and every
 * controller queue is empty with nothing in flight. The wrapper then exits; the time of a run is
 * from spawning the process to its exit, as for our job.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  loadAllYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const GROUP = 'cert-manager.io';
const VERSION = 'v1';
/** The Issuer every bench Certificate names. SelfSigned: nothing to reach, nothing to register. */
export const ISSUER_NAME = 'bench-selfsigned';

/**
 * The annotations cert-manager's trigger and readiness policy chains compare with a
 * Certificate (internal/controller/certificates/policies: SecretIssuerAnnotationsMismatch,
 * SecretCertificateNameAnnotationsMismatch). With them, a Secret whose key matches its
 * certificate, RSA 2048 as the Certificate's default privateKey, covering its dnsNames and far
 * from expiry, is up to date: no re-issuance.
 */
export function certManagerSecretAnnotations(certificateName: string): Record<string, string> {
  return {
    'cert-manager.io/issuer-name': ISSUER_NAME,
    'cert-manager.io/issuer-kind': 'Issuer',
    'cert-manager.io/issuer-group': GROUP,
    'cert-manager.io/certificate-name': certificateName,
  };
}

/**
 * The folder holding cert-manager-controller and crds/, from build-servers.sh (which builds it
 * on first use, several minutes on 2 cores).
 * @throws Error when the build fails or prints no folder.
 */
export function certManagerDir(): string {
  const out = execFileSync(
    'bash',
    [join(root, 'test', 'env', 'build-servers.sh'), 'cert-manager'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    },
  );
  const dir = /^CERT_MANAGER_DIR=(.*)$/m.exec(out)?.[1];
  if (!dir) throw new Error(`build-servers.sh cert-manager printed no CERT_MANAGER_DIR: ${out}`);
  return dir;
}

/**
 * Creates cert-manager's CRDs (those already there are left alone) and waits until each is
 * Established.
 * @throws Error when one is not Established within 60 s.
 */
export async function installCertManagerCrds(kc: KubeConfig, dir: string): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  const folder = join(dir, 'crds');
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.yaml'))) {
    // client-node's loader, not js-yaml's: it maps x-kubernetes-preserve-unknown-fields onto the
    // model's field, which the request serializer would otherwise drop (the apiserver then
    // rejects the untyped `config` fields of cert-manager's webhook solver).
    for (const crd of loadAllYaml(
      readFileSync(join(folder, file), 'utf8'),
    ) as V1CustomResourceDefinition[]) {
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      await api.createCustomResourceDefinition({ body: crd }).catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error;
      });
      names.push(crd.metadata!.name!);
    }
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
        break;
      }
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established within 60 s`);
      await sleep(100);
    }
  }
}

/** What one Certificate covers: its name, its Secret (which must exist) and its one DNS name. */
export interface CertificateSpec {
  name: string;
  secretName: string;
  host: string;
}

/** Creates the SelfSigned Issuer and one Certificate per entry in `namespace`. */
export async function createCertManagerObjects(
  kc: KubeConfig,
  namespace: string,
  certificates: CertificateSpec[],
  pool: <T>(items: T[], width: number, fn: (item: T) => Promise<void>) => Promise<void>,
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'issuers',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Issuer',
      metadata: { name: ISSUER_NAME },
      spec: { selfSigned: {} },
    },
  });
  await pool(certificates, 16, async (c) => {
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'certificates',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'Certificate',
        metadata: { name: c.name },
        spec: {
          secretName: c.secretName,
          dnsNames: [c.host],
          issuerRef: { name: ISSUER_NAME, kind: 'Issuer', group: GROUP },
        },
      },
    });
  });
}

interface Conditioned {
  status?: { conditions?: { type: string; status: string }[] };
}

/** How many Certificates in `namespace` have Ready=True, and how many CertificateRequests exist. */
export async function certManagerState(
  kc: KubeConfig,
  namespace: string,
): Promise<{ certificates: number; ready: number; certificateRequests: number }> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const list = async (plural: string) =>
    (
      (await api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
      })) as {
        items: Conditioned[];
      }
    ).items;
  const certificates = await list('certificates');
  const ready = certificates.filter((c) =>
    c.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True'),
  ).length;
  return {
    certificates: certificates.length,
    ready,
    certificateRequests: (await list('certificaterequests')).length,
  };
}

/** One timed run of the controller. */
export interface CertManagerRun {
  /** From spawning the process to its exit (it exits once synced). */
  wallMs: number;
  /** From the start of its main to synced, as the wrapper measured it. */
  syncedAfterMs: number;
  maxRssMb: number;
  cpuS: number;
  /** Per controller queue: items added and finished, retries (a retry means an error). */
  queues: Record<string, { adds: number; done: number; retries: number }>;
}

/**
 * Starts cert-manager's controllers on `namespace` (upstream's default set less ingress-shim,
 * which would act on the bench's tls-acme Ingresses, and less venafi, which cannot be built
 * here) with `kubeconfig`, and waits until it has synced `count` Certificates and exited.
 * @throws Error with the end of its output when it fails or is not synced within `timeoutMs`.
 */
export async function runCertManager(
  dir: string,
  kubeconfig: string,
  namespace: string,
  count: number,
  timeoutMs: number,
): Promise<CertManagerRun> {
  const started = Date.now();
  const { stdout, stderr } = await execFileAsync(
    '/usr/bin/time',
    [
      '-f',
      'MAXRSS_KB=%M CPU_S=%U+%S',
      join(dir, 'cert-manager-controller'),
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${namespace}`,
      '--controllers=*,-ingress-shim',
      '--exit-when-synced',
      `--expect-certificates=${count}`,
      `--sync-timeout=${Math.floor(timeoutMs / 1000)}s`,
    ],
    // The process's own --sync-timeout ends it first; this one is for a process that hangs.
    { maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs + 30_000 },
  ).catch((error: unknown) => {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(
      `cert-manager-controller failed: ${(e.stdout ?? '') + (e.stderr ?? String(error))}`.slice(
        -3000,
      ),
    );
  });
  const wallMs = Date.now() - started;
  const line = stdout.split('\n').find((l) => l.startsWith('{"'));
  const synced = JSON.parse(line ?? '{}') as {
    elapsedMs?: number;
    queues?: CertManagerRun['queues'];
  };
  const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
  return {
    wallMs,
    syncedAfterMs: synced.elapsedMs ?? NaN,
    maxRssMb: Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024,
    cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN,
    queues: synced.queues ?? {},
  };
}
