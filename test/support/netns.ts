/**
 * A network namespace of the test run's own, for processes that must listen on an address a
 * Kubernetes EndpointSlice accepts (it refuses loopback): the responder "pod" behind Traefik.
 *
 * One veth pair joins it to the host: the host end and the namespace end share a /30 of
 * 192.0.2.0/24 (TEST-NET-1, RFC 5737), taken from its upper half (the machine's own link may use
 * the lower addresses) and claimed machine-wide by a lock file, so that test runs side by side
 * get different ones. Only the /30 is routed to the pair; nothing leaves the machine.
 *
 * The namespace and its link are removed by `remove()`, when the process exits, on SIGINT /
 * SIGTERM / SIGHUP, and by the next run if this process was killed outright (its name carries
 * its pid).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lock } from '../env/ports.js';

const LOCKS = join(tmpdir(), 'kube-lego-ts-netns');
const PREFIX = 'kl-test-';
/** /30 subnets 192.0.2.128/30 … 192.0.2.252/30. */
const FIRST_SUBNET = 32;
const LAST_SUBNET = 63;

export interface NetworkNamespace {
  /** Name for `ip netns exec`. */
  name: string;
  /** The host end's address (root namespace), e.g. 192.0.2.129. */
  hostAddress: string;
  /** The namespace end's address, e.g. 192.0.2.130. */
  address: string;
  /**
   * Makes a loopback-only server of the host (the test apiserver) reachable from the namespace:
   * a relay listening on `hostAddress:relayPort` that forwards to 127.0.0.1:`port`.
   */
  relay(port: number, relayPort: number): Promise<void>;
  /** Removes the namespace, its link and its relays. Idempotent. */
  remove(): Promise<void>;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces of earlier test processes that died without cleaning up. */
function removeStale(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = /^kl-test-(\d+)-(\d+)$/.exec(name);
    if (!match || alive(Number(match[1]))) continue;
    removeSync(name, Number(match[2]));
  }
}

function hostLink(subnet: number): string {
  return `klh${subnet}`;
}

function removeSync(name: string, subnet: number): void {
  for (const args of [
    ['netns', 'del', name],
    ['link', 'del', hostLink(subnet)],
  ]) {
    try {
      ip(...args);
    } catch {
      // already gone
    }
  }
  rmSync(join(LOCKS, `${subnet}.lock`), { force: true });
}

/**
 * Creates the namespace and its veth pair, both ends up, loopback up inside.
 * @throws Error with `ip`'s message when the namespace cannot be made (e.g. not root), or when
 * every /30 is taken by a live test process.
 */
export function createNetworkNamespace(): NetworkNamespace {
  mkdirSync(LOCKS, { recursive: true });
  removeStale();
  let subnet: number | undefined;
  for (let k = FIRST_SUBNET; k <= LAST_SUBNET && subnet === undefined; k++) {
    if (lock(join(LOCKS, `${k}.lock`))) subnet = k;
  }
  if (subnet === undefined) throw new Error('every test /30 of 192.0.2.128/25 is in use');
  const k = subnet;
  const name = `${PREFIX}${process.pid}-${k}`;
  const hostAddress = `192.0.2.${4 * k + 1}`;
  const address = `192.0.2.${4 * k + 2}`;
  const inner = `kln${k}`;
  const relays: Server[] = [];
  let removed = false;
  const removeNow = () => {
    if (removed) return;
    removed = true;
    for (const server of relays) server.close();
    removeSync(name, k);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    removeNow();
    process.kill(process.pid, signal);
  };
  process.once('exit', removeNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  try {
    removeSync(name, k); // a leftover of the same name (pid reuse)
    ip('netns', 'add', name);
    ip('link', 'add', hostLink(k), 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostLink(k));
    ip('link', 'set', hostLink(k), 'up');
    ip('-n', name, 'addr', 'add', `${address}/30`, 'dev', inner);
    ip('-n', name, 'link', 'set', inner, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (error) {
    removeNow();
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`cannot create network namespace ${name}: ${stderr.trim()}`, {
      cause: error,
    });
  }
  return {
    name,
    hostAddress,
    address,
    relay: async (port, relayPort) => {
      const server = createServer((socket) => {
        const upstream = createConnection({ host: '127.0.0.1', port });
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      relays.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(relayPort, hostAddress, resolve);
      });
    },
    remove: () => {
      removeNow();
      process.removeListener('exit', removeNow);
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.removeListener(signal, onSignal);
      }
      return Promise.resolve();
    },
  };
}

/**
 * A copy of `kubeconfig` (JSON, as the test environment writes it) whose server is
 * `https://<host>:<port>` while TLS still checks the API server's certificate for `serverName`.
 */
export function kubeconfigVia(
  kubeconfig: string,
  out: string,
  host: string,
  port: number,
  serverName: string,
): string {
  const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, unknown> }[];
  };
  for (const { cluster } of config.clusters) {
    cluster.server = `https://${host}:${port}`;
    cluster['tls-server-name'] = serverName;
  }
  writeFileSync(out, JSON.stringify(config, null, 2), { mode: 0o600 });
  return out;
}
