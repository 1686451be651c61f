/**
 * Renders the install manifests the way an operator does — `kubectl kustomize` on the base in
 * manifests/ (through an overlay when the namespace or names change) and `helm template` on the
 * chart — and hands the objects to the tests, plus kubectl against the test apiserver.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
// @kubernetes/client-node's own YAML parser (its types come with it). client-node's loadAllYaml
// turns objects into its model classes, which drops fields it does not know: a typo would vanish.
import { loadAll } from 'js-yaml';
import { testEnv } from '../env/context.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MANIFESTS = join(ROOT, 'manifests');
export const CHART = join(MANIFESTS, 'helm', 'kube-lego');

/** A rendered object: what the tests read of it is typed, the rest is open. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

function parseObjects(yaml: string): KubeObject[] {
  return (loadAll(yaml) as (KubeObject | null)[]).filter(
    (o): o is KubeObject => o !== null && typeof o === 'object',
  );
}

export interface KustomizeOptions {
  /** Install into this namespace instead of kube-lego (the overlay docs/operating.md shows). */
  namespace?: string;
  /** Appended to every name, to keep cluster-scoped objects of several installs apart. */
  nameSuffix?: string;
}

/**
 * `kubectl kustomize manifests/`, or of an overlay that moves it to another namespace the way
 * docs/operating.md tells operators to (the namespace field plus a NamespaceTransformer that
 * also moves the RBAC subjects).
 * @throws Error with kubectl's output when the build fails.
 */
export function renderKustomize(options: KustomizeOptions = {}): KubeObject[] {
  if (options.namespace === undefined && options.nameSuffix === undefined) {
    return parseObjects(kubectl(['kustomize', MANIFESTS]));
  }
  const dir = mkdtempSync(join(tmpdir(), 'kube-lego-overlay-'));
  try {
    const lines = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(dir, MANIFESTS)}`,
    ];
    if (options.nameSuffix !== undefined) lines.push(`nameSuffix: ${options.nameSuffix}`);
    if (options.namespace !== undefined) {
      lines.push(
        `namespace: ${options.namespace}`,
        'transformers:',
        '  - |-',
        '    apiVersion: builtin',
        '    kind: NamespaceTransformer',
        '    metadata:',
        '      name: namespace',
        `      namespace: ${options.namespace}`,
        '    setRoleBindingSubjects: allServiceAccounts',
      );
    }
    writeFileSync(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
    return parseObjects(kubectl(['kustomize', dir]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The helm binary built by test/env/build-servers.sh (HELM_DIR, exported by `npm test`). */
export function helmBinary(): string {
  const dir = process.env.HELM_DIR;
  if (!dir) throw new Error('HELM_DIR is not set: run the tests with `npm test -- <file>`');
  return join(dir, 'helm');
}

export interface HelmOptions {
  release?: string;
  namespace?: string;
  /** `--set` pairs. */
  set?: Record<string, string>;
  /** `--set-string` pairs. */
  setString?: Record<string, string>;
  /**
   * image.repository, which the chart requires; when omitted, `kube-lego-ts`, the kustomize
   * base's image name (so both render the same image). `null` leaves it unset.
   */
  imageRepository?: string | null;
}

/**
 * `helm template` of the chart.
 * @throws Error with helm's output when rendering fails (e.g. a `fail` in a template).
 */
export function renderHelm(options: HelmOptions = {}): KubeObject[] {
  return parseObjects(helmTemplate(options));
}

/** `helm template`'s raw output. */
export function helmTemplate(options: HelmOptions = {}, extra: string[] = []): string {
  return run(helmBinary(), [...helmArgs('template', options), ...extra]);
}

function helmArgs(command: string, options: HelmOptions): string[] {
  return [
    command,
    options.release ?? 'kube-lego',
    CHART,
    '--namespace',
    options.namespace ?? 'kube-lego',
    ...(options.imageRepository === null
      ? []
      : ['--set-string', `image.repository=${options.imageRepository ?? 'kube-lego-ts'}`]),
    ...Object.entries(options.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ...Object.entries(options.setString ?? {}).flatMap(([k, v]) => ['--set-string', `${k}=${v}`]),
  ];
}

/**
 * The chart's NOTES.txt as `helm install` prints it (a client-side dry run, which still needs a
 * cluster to ask for its version: the test apiserver).
 */
export function renderHelmNotes(options: HelmOptions = {}): string {
  const out = run(helmBinary(), [
    ...helmArgs('install', options),
    '--dry-run=client',
    '--kubeconfig',
    testEnv().kubeconfig,
  ]);
  const start = out.indexOf('NOTES:\n');
  if (start < 0) throw new Error(`helm install --dry-run printed no NOTES:\n${out}`);
  return out.slice(start + 'NOTES:\n'.length);
}

function run(binary: string, args: string[], input?: string): string {
  try {
    return execFileSync(binary, args, {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`, {
      cause: error,
    });
  }
}

/** Runs kubectl (from PATH) synchronously and returns its standard output. */
export function kubectl(args: string[], input?: string): string {
  return run('kubectl', args, input);
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the test apiserver as admin, feeding `objects` on stdin (`-f -`). */
export async function kubectlApply(objects: KubeObject[], extra: string[]): Promise<KubectlResult> {
  const input = objects.map((o) => JSON.stringify(o)).join('\n');
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      ['apply', '--kubeconfig', testEnv().kubeconfig, '-f', '-', ...extra],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * A server-side apply of `objects` as a server dry run with strict field validation: every
 * admission step runs and nothing is stored. Resolves with kubectl's result; never rejects.
 */
export function serverDryRun(objects: KubeObject[]): Promise<KubectlResult> {
  return kubectlApply(objects, [
    '--server-side',
    '--dry-run=server',
    '--validate=strict',
    '--field-manager=kube-lego-test',
  ]);
}

/** The objects of `kind`. */
export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

/**
 * The one object of `kind` named `name`.
 * @throws Error naming what is missing.
 */
export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`no ${kind}/${name} among ${have}`);
  }
  return found;
}

/** The labels Helm adds that the kustomize base does not have. */
export const HELM_ONLY_LABELS = [
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];

/**
 * A copy of `value` without Helm's own labels and `checksum/*` annotations, anywhere in it, and
 * with empty label or annotation maps removed: what is left must match the kustomize base.
 */
export function withoutHelmMarks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHelmMarks);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if ((key === 'labels' || key === 'annotations') && child && typeof child === 'object') {
      const kept = Object.fromEntries(
        Object.entries(child as Record<string, string>).filter(
          ([k]) => !HELM_ONLY_LABELS.includes(k) && !k.startsWith('checksum/'),
        ),
      );
      if (Object.keys(kept).length > 0) out[key] = kept;
      continue;
    }
    out[key] = withoutHelmMarks(child);
  }
  return out;
}

/** The pod templates of a set of objects: the CronJob's and the Deployment's. */
export function podTemplates(
  objects: KubeObject[],
): { owner: string; template: { metadata?: KubeObject['metadata']; spec: PodSpec } }[] {
  const out: { owner: string; template: { metadata?: KubeObject['metadata']; spec: PodSpec } }[] =
    [];
  for (const o of objects) {
    const spec = o.spec as Record<string, unknown> | undefined;
    if (o.kind === 'CronJob') {
      const job = (spec?.jobTemplate as { spec: { template: { spec: PodSpec } } }).spec;
      out.push({ owner: `CronJob/${o.metadata.name}`, template: job.template });
    } else if (o.kind === 'Deployment') {
      out.push({
        owner: `Deployment/${o.metadata.name}`,
        template: spec?.template as { spec: PodSpec },
      });
    }
  }
  return out;
}

/** The parts of a pod spec the tests read. */
export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: {
    name: string;
    image: string;
    args?: string[];
    env?: { name: string; value?: string; valueFrom?: unknown }[];
    envFrom?: { configMapRef?: { name: string } }[];
    ports?: { name: string; containerPort: number }[];
    securityContext?: Record<string, unknown>;
    readinessProbe?: { httpGet?: { path: string; port: string | number } };
    livenessProbe?: { httpGet?: { path: string; port: string | number } };
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  }[];
  [field: string]: unknown;
}
