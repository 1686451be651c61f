/**
 * What a test file uses to reach the shared environment started by test/env/run.ts.
 * Each test file works in namespaces of its own: without kube-controller-manager a namespace
 * never finishes deleting, so names are never reused.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { loadKubeConnection } from '../../shared/kube/kube-connection.js';
import { endpointFromConnection } from '../../shared/kube/kube-endpoint.js';
import { KubeHttp } from '../../shared/kube/kube-http.js';
import type { EnvironmentState } from './environment.js';
import { PortBlock } from './ports.js';

let cached: EnvironmentState | undefined;

/**
 * The running environment.
 * @throws Error when the file is not run through `npm test` (no environment to use).
 */
export function testEnv(): EnvironmentState {
  if (cached) return cached;
  const file = process.env.KUBE_LEGO_TEST_ENV;
  if (!file) {
    throw new Error(
      'KUBE_LEGO_TEST_ENV is not set: run integration tests with `npm test -- <file>`',
    );
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as EnvironmentState;
  return cached;
}

/** An admin KubeConfig for the test apiserver. */
export function adminKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  return config;
}

/**
 * The job's own API client (shared/kube/kube-http.ts) for a kubeconfig file (JSON or YAML),
 * the admin's by default: for tests that drive the job's adapters in-process.
 */
export async function jobKubeHttp(kubeconfig = testEnv().kubeconfig): Promise<KubeHttp> {
  const connection = await loadKubeConnection({ env: { KUBECONFIG: kubeconfig } });
  return new KubeHttp(endpointFromConnection(connection), { timeoutMs: 30_000 });
}

let counter = 0;

/** Creates a fresh namespace named `<prefix>-<random>` and returns its name. */
export async function createNamespace(
  prefix: string,
  labels?: Record<string, string>,
): Promise<string> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const name =
    `${prefix}-${process.pid.toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`
      .toLowerCase()
      .slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

/** The Pebble root certificate (PEM) that issued certificates chain to. */
export async function pebbleRoot(): Promise<string> {
  const response = await fetch(`${testEnv().pebble.managementUrl}/roots/0`);
  if (!response.ok) throw new Error(`pebble /roots/0: HTTP ${response.status}`);
  return response.text();
}

/**
 * `n` distinct loopback ports of the run's block (ports.ts) that nothing else in the run was
 * given: the environment's servers, other test files and earlier calls never had them.
 * @throws Error when the run's block is used up.
 */
export function claimPorts(n: number): number[] {
  return PortBlock.of(testEnv().ports).claim(n);
}

/** One port, as `claimPorts(1)`. */
export function claimPort(): number {
  const [port] = claimPorts(1);
  if (port === undefined) throw new Error('claimPorts(1) returned no port');
  return port;
}
