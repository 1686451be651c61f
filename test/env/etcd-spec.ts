/**
 * How the harness runs etcd for a test apiserver: one member on loopback, data in `dataDir`
 * (tmpfs where there is one), no fsync — nothing here must survive a crash.
 */
import { join } from 'node:path';
import { httpGet } from './probe-get.js';
import type { ServerSpec } from './server-process.js';

/** The ServerProcess spec of a single-member etcd on the given loopback ports. */
export function etcdSpec(options: {
  name: string;
  etcdDir: string;
  dataDir: string;
  logDir: string;
  clientPort: number;
  peerPort: number;
}): ServerSpec {
  const { clientPort, peerPort } = options;
  return {
    name: options.name,
    binary: join(options.etcdDir, 'etcd'),
    args: [
      `--data-dir=${options.dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    logFile: join(options.logDir, 'etcd.log'),
    ready: async () =>
      (await httpGet(`http://127.0.0.1:${clientPort}/health`))?.includes('"health":"true"') ??
      false,
    readyTimeoutMs: 30_000,
  };
}
