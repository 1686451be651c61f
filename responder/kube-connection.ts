/**
 * Adapter: where the Kubernetes API server is and how to authenticate to it, found the way
 * `@kubernetes/client-node`'s `loadFromDefault` (and kubectl) finds it: the first file of
 * `KUBECONFIG`, else `~/.kube/config`, else the pod's ServiceAccount.
 *
 * The responder does not load `@kubernetes/client-node` for its API calls: importing it costs
 * some 75 MB of resident memory (measured on Node 20: 43 → 118 MB), more than the whole
 * responder may use. Only a kubeconfig written in YAML (JSON kubeconfigs are read directly) makes
 * it import the library, once, to parse the file — outside a cluster, where memory is no concern.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { KubeLegoError } from '../shared/errors.js';

/** The pod's ServiceAccount files (Kubernetes: "Accessing the API from a Pod"). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How to reach the API server. */
export interface KubeConnection {
  /** Base URL of the API server, without a trailing slash, e.g. `https://10.0.0.1:443`. */
  server: string;
  /** TLS settings for an `https:` server. */
  tls: {
    ca?: string;
    cert?: string;
    key?: string;
    rejectUnauthorized: boolean;
    servername?: string;
  };
  /**
   * The bearer token to send with the next request; `undefined` when none. A token from a file
   * is read again each time: the kubelet rotates a pod's projected token.
   */
  bearerToken(): string | undefined;
  /** Where the connection came from, for the log: `in-cluster` or `kubeconfig <path> (<context>)`. */
  source: string;
}

export interface LoadKubeConnectionOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
}

/**
 * Finds the API server and credentials.
 * @throws KubeLegoError when there is neither a kubeconfig nor a ServiceAccount, when the
 * kubeconfig cannot be read or has no usable current context, or when its user authenticates in
 * a way the responder does not support (exec plugins, auth providers, basic auth).
 */
export async function loadKubeConnection(
  options: LoadKubeConnectionOptions = {},
): Promise<KubeConnection> {
  const env = options.env ?? process.env;
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).find((f) => f !== '');
  if (fromEnv !== undefined) return fromKubeconfig(fromEnv);
  const home = join(options.home ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfig(home);
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && existsSync(join(dir, 'token'))) return inCluster(host, port, dir);
  throw new KubeLegoError(
    'no Kubernetes API configured: run in a pod with a ServiceAccount token, or set KUBECONFIG',
  );
}

function inCluster(host: string, port: string, dir: string): KubeConnection {
  const tokenFile = join(dir, 'token');
  const caFile = join(dir, 'ca.crt');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca: readText(caFile, 'the ServiceAccount CA'), rejectUnauthorized: true },
    bearerToken: () => readText(tokenFile, 'the ServiceAccount token').trim(),
    source: 'in-cluster',
  };
}

/** The parts of a kubeconfig the responder reads (kubeconfig v1, as kubectl writes it). */
interface RawKubeconfig {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  clusters?: {
    name?: string;
    cluster?: {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
    };
  }[];
  users?: {
    name?: string;
    user?: {
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      token?: string;
      tokenFile?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
      username?: string;
    };
  }[];
}

async function fromKubeconfig(path: string): Promise<KubeConnection> {
  const file = resolve(path);
  const text = readText(file, 'the kubeconfig');
  let raw: RawKubeconfig;
  try {
    raw = JSON.parse(text) as RawKubeconfig;
  } catch {
    raw = await parseYamlKubeconfig(file);
  }
  return connectionFromKubeconfig(raw, file);
}

/** A YAML kubeconfig, read by `@kubernetes/client-node` (imported only here, only then). */
async function parseYamlKubeconfig(file: string): Promise<RawKubeconfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    config.loadFromFile(file);
  } catch (error) {
    throw new KubeLegoError(`cannot read the kubeconfig ${file}`, { cause: error });
  }
  return JSON.parse(config.exportConfig()) as RawKubeconfig;
}

/**
 * The connection a kubeconfig's current context describes; relative file names are relative to
 * the kubeconfig's folder, as kubectl reads them.
 * @throws KubeLegoError as {@link loadKubeConnection}.
 */
export function connectionFromKubeconfig(raw: RawKubeconfig, file: string): KubeConnection {
  const contextName = raw['current-context'];
  const context = raw.contexts?.find((c) => c.name === contextName)?.context;
  if (!contextName || !context) {
    throw new KubeLegoError(`the kubeconfig ${file} has no current context`);
  }
  const cluster = raw.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) {
    throw new KubeLegoError(
      `the kubeconfig ${file} has no server for context ${JSON.stringify(contextName)}`,
    );
  }
  const user = raw.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || user.username) {
    throw new KubeLegoError(
      `the kubeconfig ${file} authenticates user ${JSON.stringify(context.user)} with an exec plugin, an auth provider or a password, which the responder does not support: use a client certificate or a token`,
    );
  }
  const base = dirname(file);
  const fileOrData = (name: string | undefined, data: string | undefined, what: string) =>
    data
      ? Buffer.from(data, 'base64').toString('utf8')
      : name
        ? readText(isAbsolute(name) ? name : join(base, name), what)
        : undefined;
  const tokenFile = user.tokenFile;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls: {
      ca: fileOrData(
        cluster['certificate-authority'],
        cluster['certificate-authority-data'],
        'the cluster CA',
      ),
      cert: fileOrData(
        user['client-certificate'],
        user['client-certificate-data'],
        'the client certificate',
      ),
      key: fileOrData(user['client-key'], user['client-key-data'], 'the client key'),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      servername: cluster['tls-server-name'],
    },
    bearerToken: tokenFile
      ? () =>
          readText(isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile), 'the token').trim()
      : () => user.token,
    source: `kubeconfig ${file} (${contextName})`,
  };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new KubeLegoError(`cannot read ${what} from ${file}`, { cause: error });
  }
}
