/**
 * Traefik (test/env/build-servers.sh builds it; TRAEFIK_DIR names its folder) as the cluster's
 * ingress controller, running outside the cluster against the test apiserver with its Kubernetes
 * Ingress provider, as a real process:
 *
 * - `web` (HTTP) on `webAddress`:`webPort`: what Pebble's validator and the self-check dial;
 * - `websecure` (TLS) on 127.0.0.1:`websecurePort`, serving the certificates of Ingress Secrets;
 * - `traefik` on 127.0.0.1: ping and the read-only API (which routers it has built);
 * - a JSON access log with the User-Agent kept, so a test can see who came through;
 * - a file provider holding the middleware `to-https@file` (a redirect to HTTPS) that a user's
 *   Ingress can name in `traefik.ingress.kubernetes.io/router.middlewares`.
 *
 * No version check and no usage statistics: Traefik must not dial out of the machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, claimPorts, testEnv } from '../env/context.js';
import { ServerProcess } from '../env/server-process.js';

/** The GatewayClass controllerName Traefik's Gateway provider answers for. */
export const TRAEFIK_GATEWAY_CONTROLLER = 'traefik.io/gateway-controller';

/** The IngressClass controller name Traefik's Ingress provider answers for. */
export const TRAEFIK_CONTROLLER = 'traefik.io/ingress-controller';

/** One line of Traefik's JSON access log (the fields the tests read). */
export interface AccessLogRecord {
  RequestHost?: string;
  RequestPath?: string;
  RequestMethod?: string;
  RouterName?: string;
  ServiceName?: string;
  ServiceURL?: string;
  DownstreamStatus?: number;
  OriginStatus?: number;
  entryPointName?: string;
  ClientHost?: string;
  'request_User-Agent'?: string;
  [field: string]: unknown;
}

/** A router as Traefik's API lists it (/api/http/routers). */
export interface TraefikRouter {
  name: string;
  rule: string;
  service: string;
  priority?: number;
  status: string;
  middlewares?: string[];
  entryPoints?: string[];
}

export interface TraefikProcess {
  /** `http://<webAddress>:<webPort>`. */
  webUrl: string;
  webAddress: string;
  webPort: number;
  websecurePort: number;
  apiUrl: string;
  /** Lines of the access log so far. */
  accessLog(): AccessLogRecord[];
  /** The HTTP routers Traefik has built now. */
  routers(): Promise<TraefikRouter[]>;
  /**
   * Resolves with the routers once `condition` holds for them: Traefik builds routers when the
   * apiserver tells it of a change, so this waits for that event to have been handled.
   * @throws Error after `timeoutMs` (default 60 s), listing the routers it had.
   */
  waitForRouters(
    condition: (routers: TraefikRouter[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<TraefikRouter[]>;
  /** Traefik's own log so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Makes sure the IngressClass `name` exists with Traefik's controller (as Traefik's Helm chart
 * installs it): Traefik handles an Ingress naming `spec.ingressClassName` only when such an
 * IngressClass exists.
 */
export async function ensureTraefikIngressClass(name = 'traefik'): Promise<void> {
  const networking = adminKubeConfig().makeApiClient(NetworkingV1Api);
  try {
    await networking.createIngressClass({
      body: { metadata: { name }, spec: { controller: TRAEFIK_CONTROLLER } },
    });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

/**
 * Starts Traefik with its web entrypoint on `webAddress:webPort` and waits for /ping.
 * @throws Error with the log's tail when Traefik exits or is not ready in time.
 */
export async function startTraefik(options: {
  webAddress: string;
  webPort: number;
  /** Folder for its configuration and logs. */
  dir: string;
  /** The API server to watch; the shared environment's when omitted. */
  kubeconfig?: string;
  /**
   * Also run the Kubernetes Gateway provider (Gateway API; the API server must serve its CRDs):
   * it handles Gateways of a GatewayClass whose controllerName is {@link TRAEFIK_GATEWAY_CONTROLLER}.
   */
  gateway?: boolean;
}): Promise<TraefikProcess> {
  const dir = options.dir;
  const traefikDir = process.env.TRAEFIK_DIR;
  if (!traefikDir) {
    throw new Error('TRAEFIK_DIR is not set: run the tests with `npm test`, which builds Traefik');
  }
  const [websecurePort, apiPort] = claimPorts(2) as [number, number];
  const accessLogFile = join(dir, 'traefik-access.log');
  writeFileSync(accessLogFile, '');
  const dynamic = join(dir, 'traefik-dynamic.json');
  writeFileSync(
    dynamic,
    JSON.stringify({
      http: {
        middlewares: {
          'to-https': { redirectScheme: { scheme: 'https', permanent: true } },
        },
      },
    }),
  );
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const logFile = join(dir, 'traefik.log');
  const server = await ServerProcess.start({
    name: 'traefik',
    binary: join(traefikDir, 'traefik'),
    args: [
      `--entryPoints.web.address=${options.webAddress}:${options.webPort}`,
      `--entryPoints.websecure.address=127.0.0.1:${websecurePort}`,
      `--entryPoints.traefik.address=127.0.0.1:${apiPort}`,
      '--api.insecure=true',
      '--ping=true',
      '--providers.kubernetesingress=true',
      ...(options.gateway ? ['--providers.kubernetesgateway=true'] : []),
      `--providers.file.filename=${dynamic}`,
      '--accesslog=true',
      '--accesslog.format=json',
      `--accesslog.filepath=${accessLogFile}`,
      '--accesslog.fields.headers.names.User-Agent=keep',
      '--log.level=DEBUG',
      '--global.checknewversion=false',
      '--global.sendanonymoususage=false',
    ],
    env: { KUBECONFIG: options.kubeconfig ?? testEnv().kubeconfig },
    logFile,
    ready: async () => {
      const response = await fetch(`${apiUrl}/ping`, { signal: AbortSignal.timeout(2_000) });
      return response.status === 200;
    },
    readyTimeoutMs: 60_000,
  });

  const routers = async (): Promise<TraefikRouter[]> => {
    const response = await fetch(`${apiUrl}/api/http/routers?per_page=1000`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`traefik /api/http/routers: HTTP ${response.status}`);
    return (await response.json()) as TraefikRouter[];
  };
  return {
    webUrl: `http://${options.webAddress}:${options.webPort}`,
    webAddress: options.webAddress,
    webPort: options.webPort,
    websecurePort,
    apiUrl,
    accessLog: () =>
      readFileSync(accessLogFile, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as AccessLogRecord),
    routers,
    waitForRouters: async (condition, what, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const last = await routers();
        if (condition(last)) return last;
        if (Date.now() > deadline) {
          throw new Error(
            `Traefik did not get ${what} within ${timeoutMs / 1000}s; its routers: ${JSON.stringify(last, null, 1)}`,
          );
        }
        await sleep(100);
      }
    },
    log: () => readFileSync(logFile, 'utf8'),
    stop: () => server.stop(),
  };
}

/** The certificate Traefik presents on `port` (its websecure entrypoint) for `host` (SNI). */
export function servedCertificate(port: number, host: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, servername: host, rejectUnauthorized: false },
      () => {
        const certificate = socket.getPeerCertificate();
        socket.end();
        resolve(certificate);
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

/**
 * Resolves once Traefik presents the certificate with `serial` for `host` on `port`: it loads a
 * changed Secret asynchronously. Fails after 60 s (a guard, not a window), naming what it served.
 */
export async function waitForServedCertificate(
  port: number,
  host: string,
  serial: string,
): Promise<PeerCertificate> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const certificate = await servedCertificate(port, host).catch(() => undefined);
    if (certificate?.serialNumber.toUpperCase() === serial.toUpperCase()) return certificate;
    if (Date.now() > deadline) {
      throw new Error(
        `Traefik served serial ${certificate?.serialNumber} for ${host}, not ${serial}`,
      );
    }
    await sleep(100);
  }
}
