/**
 * A private etcd + kube-apiserver pair for one test file, for tests that must stop and start the
 * API server (the shared one in environment.ts is used by every other file and must stay up).
 * The API server can be stopped and started again on the same port, with the same etcd and the
 * same certificates: the data and every kubeconfig survive a restart.
 *
 * Binary folders come from KUBE_APISERVER_DIR and ETCD_DIR, which `npm test` sets.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { createCa, issueLeaf, rsaKeyPair } from './certs.js';
import { etcdSpec } from './etcd-spec.js';
import { adminKubeconfig, kubeApiserverSpec } from './kube-apiserver-spec.js';
import { claimPorts } from './context.js';
import { ServerProcess } from './server-process.js';

export interface KubeOnly {
  /** Folder of this pair's files (data, certificates, logs, kubeconfig). */
  dir: string;
  /** An admin kubeconfig (JSON) for this API server. */
  kubeconfig: string;
  apiServerUrl: string;
  /** PEM of the CA the API server's certificate chains to (for other kubeconfigs). */
  caPem: string;
  /** Whether the API server is running. */
  readonly apiServerRunning: boolean;
  /** Stops the API server only (SIGTERM, then SIGKILL after `graceMs`); etcd keeps the data. */
  stopApiServer(graceMs?: number): Promise<void>;
  /**
   * Starts the API server again on the same port, with the same etcd and certificates, and
   * waits until it is ready. @throws Error with its log's tail if it does not become ready.
   */
  startApiServer(): Promise<void>;
  /**
   * Sends a signal to the running API server only: SIGSTOP freezes it (connections stay open,
   * nothing is answered), SIGCONT lets it go on.
   * @throws Error when the API server is not running.
   */
  signalApiServer(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** Stops both servers and removes the folder. */
  stop(): Promise<void>;
}

/**
 * Starts etcd and a kube-apiserver (RBAC on, as in the shared environment) on free loopback
 * ports, and waits until both are ready.
 * @throws Error naming the server that could not start; anything started is stopped.
 */
export async function startKubeApiServer(
  options: { kubeApiserverDir?: string; etcdDir?: string } = {},
): Promise<KubeOnly> {
  const kubeDir = options.kubeApiserverDir ?? required('KUBE_APISERVER_DIR');
  const etcdDir = options.etcdDir ?? required('ETCD_DIR');
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'kube-lego-kube-only-'));
  let etcd: ServerProcess | undefined;
  let api: ServerProcess | undefined;
  try {
    const ca = await createCa('kube-lego private test CA');
    const [serving, admin, serviceAccount] = await Promise.all([
      issueLeaf(ca, { commonName: 'kube-apiserver', dns: ['localhost'], ips: ['127.0.0.1'] }),
      issueLeaf(ca, { commonName: 'admin', organization: 'system:masters', client: true }),
      rsaKeyPair(),
    ]);
    const [etcdPort, etcdPeerPort, apiPort] = claimPorts(3) as [number, number, number];
    mkdirSync(join(dir, 'etcd'));
    etcd = await ServerProcess.start(
      etcdSpec({
        name: 'etcd (private)',
        etcdDir,
        dataDir: join(dir, 'etcd'),
        logDir: dir,
        clientPort: etcdPort,
        peerPort: etcdPeerPort,
      }),
    );
    const apiServerUrl = `https://127.0.0.1:${apiPort}`;
    const agent = new Agent({ ca: ca.cert, cert: admin.cert, key: admin.key });
    const spec = kubeApiserverSpec({
      name: 'kube-apiserver (private)',
      kubeApiserverDir: kubeDir,
      dir,
      port: apiPort,
      etcdPort,
      ca,
      serving,
      admin,
      serviceAccount,
      advertiseAddress: '192.0.2.11',
    });
    const startApi = () => ServerProcess.start(spec);
    api = await startApi();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, adminKubeconfig(apiServerUrl, ca.cert, admin), { mode: 0o600 });
    const etcdServer = etcd;
    const handle: KubeOnly = {
      dir,
      kubeconfig,
      apiServerUrl,
      caPem: ca.cert,
      get apiServerRunning() {
        return api !== undefined;
      },
      async stopApiServer(graceMs = 5_000) {
        const running = api;
        api = undefined;
        await running?.stop(graceMs);
      },
      async startApiServer() {
        if (api) return;
        api = await startApi();
      },
      signalApiServer(signal) {
        const pid = api?.pid;
        if (pid === undefined) throw new Error('the private API server is not running');
        process.kill(pid, signal);
      },
      async stop() {
        const running = api;
        if (running?.pid !== undefined) process.kill(running.pid, 'SIGCONT');
        api = undefined;
        await running?.stop(2_000);
        await etcdServer.stop(2_000);
        agent.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return handle;
  } catch (error) {
    await api?.stop(1_000);
    await etcd?.stop(1_000);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this test with \`npm test -- <file>\``);
  return value;
}
