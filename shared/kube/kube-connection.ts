/**
 * Adapter: where the Kubernetes API server is and how to authenticate to it, found the way
 * `@kubernetes/client-node`'s `loadFromDefault` (and kubectl) finds it: the first file of
 * `KUBECONFIG`, else `~/.kube/config`, else the pod's ServiceAccount.
 *
 * Neither program loads `@kubernetes/client-node` to talk to the API server: importing it costs
 * some 75 MB of resident memory and a third of a second of start-up (issue 13), more than the
 * whole responder may use and most of a no-op run. This file covers what a pod and a kubectl
 * kubeconfig with a client certificate or a token need. What it does not cover (exec plugins,
 * auth providers, passwords, proxies, several KUBECONFIG files) is refused with
 * {@link DelegatedKubeAuthError}; the job then lets client-node authenticate
 * (jobs/kube/delegated-endpoint.ts), the responder says what to use instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { KubeLegoError } from '../errors.js';

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
  /**
   * The namespace of the current context (`namespace:` in the kubeconfig), or in a pod the
   * ServiceAccount's; `undefined` when none is named.
   */
  namespace?: string | undefined;
  /** Where the connection came from, for the log: `in-cluster` or `kubeconfig <path> (<context>)`. */
  source: string;
}

/**
 * The configuration asks for something only `@kubernetes/client-node` does: an exec plugin, an
 * auth provider, a password, a proxy, or several KUBECONFIG files to merge.
 */
export class DelegatedKubeAuthError extends KubeLegoError {}

/** Neither a kubeconfig nor a pod's ServiceAccount: nowhere to send a request. */
export class NoKubeConfigError extends KubeLegoError {
  constructor() {
    super(
      'no Kubernetes configuration: KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod with a ServiceAccount. Point KUBECONFIG at a kubeconfig file (or run inside the cluster)',
    );
  }
}

export interface LoadKubeConnectionOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
  /**
   * Refuse (with {@link DelegatedKubeAuthError}) a KUBECONFIG of several files instead of taking
   * the first: kubectl merges them, and the job must see what kubectl sees.
   */
  singleFile?: boolean;
}

/**
 * Finds the API server and credentials.
 * @throws NoKubeConfigError when there is neither a kubeconfig nor a ServiceAccount.
 * @throws DelegatedKubeAuthError as that class says.
 * @throws KubeLegoError when the
 * kubeconfig cannot be read or has no usable current context, or when its user authenticates in
 * a way the responder does not support (exec plugins, auth providers, basic auth).
 */
export async function loadKubeConnection(
  options: LoadKubeConnectionOptions = {},
): Promise<KubeConnection> {
  const env = options.env ?? process.env;
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  const fromEnv = files[0];
  if (options.singleFile && files.length > 1) {
    throw new DelegatedKubeAuthError(
      `KUBECONFIG names ${files.length} files, whose merge only the Kubernetes client library does`,
    );
  }
  if (fromEnv !== undefined) return fromKubeconfig(fromEnv);
  const home = join(options.home ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfig(home);
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && existsSync(join(dir, 'token'))) return inCluster(host, port, dir);
  throw new NoKubeConfigError();
}

function inCluster(host: string, port: string, dir: string): KubeConnection {
  const tokenFile = join(dir, 'token');
  const caFile = join(dir, 'ca.crt');
  const namespaceFile = join(dir, 'namespace');
  const namespace = existsSync(namespaceFile)
    ? readText(namespaceFile, 'the ServiceAccount namespace').trim() || undefined
    : undefined;
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca: readText(caFile, 'the ServiceAccount CA'), rejectUnauthorized: true },
    bearerToken: () => readText(tokenFile, 'the ServiceAccount token').trim(),
    namespace,
    source: 'in-cluster',
  };
}

/** The parts of a kubeconfig the responder reads (kubeconfig v1, as kubectl writes it). */
interface RawKubeconfig {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
  clusters?: {
    name?: string;
    cluster?: {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
      'proxy-url'?: string;
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
    raw = await parseYamlKubeconfig(text, file);
  }
  return connectionFromKubeconfig(raw, file);
}

/**
 * A YAML kubeconfig (what kubectl writes), read with js-yaml, the parser client-node uses,
 * imported only here, only then.
 */
async function parseYamlKubeconfig(text: string, file: string): Promise<RawKubeconfig> {
  const { load } = await import('js-yaml');
  let parsed: unknown;
  try {
    parsed = load(text);
  } catch (error) {
    throw new KubeLegoError(`cannot read the kubeconfig ${file}: it is neither JSON nor YAML`, {
      cause: error,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KubeLegoError(`cannot read the kubeconfig ${file}: it is not a mapping`);
  }
  return parsed;
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
    throw new DelegatedKubeAuthError(
      `the kubeconfig ${file} authenticates user ${JSON.stringify(context.user)} with an exec plugin, an auth provider or a password, which the responder does not support: use a client certificate or a token`,
    );
  }
  if (cluster['proxy-url']) {
    throw new DelegatedKubeAuthError(
      `the kubeconfig ${file} reaches cluster ${JSON.stringify(context.cluster)} through a proxy (proxy-url), which the responder does not support`,
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
    namespace: context.namespace?.trim() || undefined,
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
