/**
 * The test environment: etcd, kube-apiserver, pebble-challtestsrv and Pebble, each on a loopback
 * port of the run's one block (ports.ts; tests claim further ports from it), started once per test run by test/env/run.ts and described to the test files
 * by a state file (see context.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:https';
import { createCa, issueLeaf, rsaKeyPair } from './certs.js';
import { etcdSpec } from './etcd-spec.js';
import {
  adminKubeconfig,
  kubeApiserverSpec,
  SERVICE_ACCOUNT_ISSUER,
} from './kube-apiserver-spec.js';
import { httpGet, httpsGet } from './probe-get.js';
import { PortBlock, type PortBlockState } from './ports.js';
import { ServerProcess } from './server-process.js';

/** What a test file needs to reach the environment. Written as JSON to the state file. */
export interface EnvironmentState {
  /** Folder holding every file of this run (logs, certificates, kubeconfig). */
  dir: string;
  kubeconfig: string;
  apiServerUrl: string;
  /** PEM of the CA that signed the apiserver's and Pebble's certificates and the admin cert. */
  caFile: string;
  /** Service-account issuer, for TokenRequest tests. */
  serviceAccountIssuer: string;
  /** The address the apiserver publishes; never dialled (TEST-ENV.md). */
  advertiseAddress: string;
  pebble: {
    directoryUrl: string;
    managementUrl: string;
    /** The port Pebble's validator dials for HTTP-01; tests run the responder there. */
    httpPort: number;
    /** Certificate lifetime, in seconds, of the profiles Pebble offers. */
    profiles: Record<string, number>;
    version: string;
  };
  challtestsrv: { managementUrl: string; dnsServer: string };
  /** The run's ports: tests take theirs with `claimPorts` (context.ts), never by binding port 0. */
  ports: PortBlockState;
  pids: number[];
}

export interface EnvironmentOptions {
  kubeApiserverDir: string;
  etcdDir: string;
  pebbleDir: string;
  /** Lifetime of the "shortlived" Pebble profile, seconds. */
  shortLivedSeconds?: number;
}

export class Environment {
  private constructor(
    readonly state: EnvironmentState,
    private readonly servers: ServerProcess[],
    private readonly portBlock: PortBlock,
  ) {}

  /**
   * Starts every server and waits until each is ready.
   * @throws Error naming the server that could not start, and why; anything started is stopped.
   */
  static async start(options: EnvironmentOptions): Promise<Environment> {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dir = mkdtempSync(join(base, 'kube-lego-test-'));
    const servers: ServerProcess[] = [];
    const block = await PortBlock.allocate(join(dir, 'ports'));
    try {
      return await Environment.startIn(dir, options, servers, block);
    } catch (error) {
      await Promise.all(servers.map((s) => s.stop(1000)));
      block.release();
      throw error;
    }
  }

  private static async startIn(
    dir: string,
    options: EnvironmentOptions,
    servers: ServerProcess[],
    block: PortBlock,
  ): Promise<Environment> {
    // Every port of the environment in one claim: no two servers can get the same one.
    const [
      etcdPort,
      etcdPeerPort,
      dnsPort,
      challMgmtPort,
      pebblePort,
      pebbleMgmtPort,
      httpPort,
      tlsPort,
      apiPort,
    ] = block.claim(9) as [number, number, number, number, number, number, number, number, number];
    const ca = await createCa('kube-lego test CA');
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, ca.cert);
    const agent = new Agent({ ca: ca.cert });

    // etcd and challtestsrv do not depend on anything: start them side by side.
    const etcdData = join(dir, 'etcd');
    mkdirSync(etcdData);
    const etcdStart = ServerProcess.start(
      etcdSpec({
        name: 'etcd',
        etcdDir: options.etcdDir,
        dataDir: etcdData,
        logDir: dir,
        clientPort: etcdPort,
        peerPort: etcdPeerPort,
      }),
    );
    const challStart = ServerProcess.start({
      name: 'pebble-challtestsrv',
      binary: join(options.pebbleDir, 'pebble-challtestsrv'),
      args: [
        '-defaultIPv4',
        '127.0.0.1',
        '-defaultIPv6',
        '',
        '-http01',
        '',
        '-https01',
        '',
        '-tlsalpn01',
        '',
        '-doh',
        '',
        '-dnsserver',
        `127.0.0.1:${dnsPort}`,
        '-management',
        `127.0.0.1:${challMgmtPort}`,
      ],
      logFile: join(dir, 'challtestsrv.log'),
      // Any answer from the management API means it is up; GET / is a 404 there.
      ready: async () => (await httpGet(`http://127.0.0.1:${challMgmtPort}/`, true)) !== undefined,
      readyTimeoutMs: 30_000,
    });
    const pkiStart = (async () => {
      const apiServing = await issueLeaf(ca, {
        commonName: 'kube-apiserver',
        dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
        ips: ['127.0.0.1'],
      });
      const admin = await issueLeaf(ca, {
        commonName: 'admin',
        organization: 'system:masters',
        client: true,
      });
      const pebbleServing = await issueLeaf(ca, {
        commonName: 'pebble',
        dns: ['localhost', 'pebble'],
        ips: ['127.0.0.1'],
      });
      const serviceAccount = await rsaKeyPair();
      return { apiServing, admin, pebbleServing, serviceAccount };
    })();
    const etcd = await etcdStart;
    servers.push(etcd);
    const chall = await challStart;
    servers.push(chall);
    const pki = await pkiStart;

    // Pebble: HTTPS with our CA's certificate; names resolve through challtestsrv to loopback.
    writeFileSync(join(dir, 'pebble.crt'), pki.pebbleServing.cert);
    writeFileSync(join(dir, 'pebble.key'), pki.pebbleServing.key);
    // `classic` and `tlsserver` carry Let's Encrypt's names (test/jobs/profiles.e2e.test.ts);
    // every test that orders names its profile (Pebble picks a random one otherwise).
    const profiles = {
      default: 90 * 24 * 3600,
      shortlived: options.shortLivedSeconds ?? 20,
      classic: 90 * 24 * 3600,
      tlsserver: 45 * 24 * 3600,
    };
    const pebbleConfig = {
      pebble: {
        listenAddress: `127.0.0.1:${pebblePort}`,
        managementListenAddress: `127.0.0.1:${pebbleMgmtPort}`,
        certificate: join(dir, 'pebble.crt'),
        privateKey: join(dir, 'pebble.key'),
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        domainBlocklist: ['blocked-domain.example'],
        retryAfter: { authz: 1, order: 1 },
        profiles: Object.fromEntries(
          Object.entries(profiles).map(([name, seconds]) => [
            name,
            { description: `${seconds}s certificates`, validityPeriod: seconds },
          ]),
        ),
      },
    };
    writeFileSync(join(dir, 'pebble.json'), JSON.stringify(pebbleConfig, null, 2));
    const pebbleStart = ServerProcess.start({
      name: 'pebble',
      binary: join(options.pebbleDir, 'pebble'),
      args: ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`],
      env: { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
      logFile: join(dir, 'pebble.log'),
      ready: async () => {
        const body = await httpsGet(`https://127.0.0.1:${pebblePort}/dir`, agent);
        if (!body.includes('newOrder')) throw new Error(`GET /dir answered ${body.slice(0, 200)}`);
        return true;
      },
      readyTimeoutMs: 30_000,
    });

    const advertiseAddress = '192.0.2.10';
    const apiStart = ServerProcess.start(
      kubeApiserverSpec({
        name: 'kube-apiserver',
        kubeApiserverDir: options.kubeApiserverDir,
        dir,
        port: apiPort,
        etcdPort,
        ca,
        serving: pki.apiServing,
        admin: pki.admin,
        serviceAccount: pki.serviceAccount,
        advertiseAddress,
      }),
    );
    const pebble = await pebbleStart.catch(async (error: unknown) => {
      await apiStart.then((s) => s.stop(1000)).catch(() => undefined);
      throw error;
    });
    servers.push(pebble);
    const api = await apiStart;
    servers.push(api);

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, adminKubeconfig(`https://127.0.0.1:${apiPort}`, ca.cert, pki.admin), {
      mode: 0o600,
    });
    const version = execFileSync(join(options.pebbleDir, 'pebble'), ['-version'], {
      encoding: 'utf8',
    }).trim();
    const state: EnvironmentState = {
      dir,
      kubeconfig,
      apiServerUrl: `https://127.0.0.1:${apiPort}`,
      caFile,
      serviceAccountIssuer: SERVICE_ACCOUNT_ISSUER,
      advertiseAddress,
      pebble: {
        directoryUrl: `https://127.0.0.1:${pebblePort}/dir`,
        managementUrl: `https://127.0.0.1:${pebbleMgmtPort}`,
        httpPort,
        profiles,
        version,
      },
      challtestsrv: {
        managementUrl: `http://127.0.0.1:${challMgmtPort}`,
        dnsServer: `127.0.0.1:${dnsPort}`,
      },
      ports: block.state,
      pids: servers.map((s) => s.pid ?? 0),
    };
    return new Environment(state, servers, block);
  }

  /** Stops every server, newest first, and removes the run's folder unless `keep`. */
  async stop(keep = false): Promise<void> {
    for (const server of [...this.servers].reverse()) await server.stop();
    this.portBlock.release();
    if (!keep) rmSync(this.state.dir, { recursive: true, force: true });
  }
}
