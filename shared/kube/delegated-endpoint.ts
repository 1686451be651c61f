/**
 * Adapter: the endpoint of a configuration only `@kubernetes/client-node` understands — an exec
 * plugin (EKS, GKE, OIDC helpers), an auth provider, a password, a `proxy-url`, several
 * KUBECONFIG files merged. The library is imported here only, and only then: it reads the
 * configuration as kubectl does and authenticates each request (`applyToHTTPSOptions`); the
 * requests themselves still go through shared/kube/kube-http.ts.
 *
 * The connection pool: client-node builds a new agent for each request; a plain `https.Agent` is
 * replaced by one keep-alive agent made from the same TLS options (the CA, client certificate
 * and key, `rejectUnauthorized` and `servername` client-node chose, so nothing about trust
 * changes). A proxy agent is kept as client-node built it the first time.
 */
import { Agent as HttpAgent } from '../node-http.js';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { KubeLegoError } from '../errors.js';
import { NoKubeConfigError } from './kube-connection.js';
import type { KubeEndpoint } from './kube-endpoint.js';

/**
 * Loads the configuration with client-node (`loadFromDefault`, as kubectl finds it).
 * @param why  why client-node is needed, for the log line that says so.
 * @throws NoKubeConfigError when it finds nothing; KubeLegoError when it cannot be read.
 */
export async function delegatedEndpoint(why: string): Promise<KubeEndpoint> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    config.loadFromDefault();
  } catch (error) {
    throw new KubeLegoError('cannot load a Kubernetes configuration (in-cluster or KUBECONFIG)', {
      cause: error,
    });
  }
  const cluster = config.getCurrentCluster();
  // client-node 1.4's last resort: a cluster `cluster` at http://localhost:8080 in a context
  // `loaded-context`, nothing the user configured.
  if (
    config.getCurrentContext() === 'loaded-context' &&
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080'
  ) {
    throw new NoKubeConfigError();
  }
  if (!cluster) {
    throw new KubeLegoError(
      'no Kubernetes cluster configured: the kubeconfig has no current context with a cluster; set one (kubectl config use-context)',
    );
  }
  const authenticate = async (): Promise<RequestOptions> => {
    const options: RequestOptions = {};
    try {
      await config.applyToHTTPSOptions(options);
    } catch (error) {
      throw new KubeLegoError(`cannot authenticate to the API server (${why})`, { cause: error });
    }
    return options;
  };
  const first = await authenticate();
  // Taken once: a client certificate an exec plugin hands out lasts longer than a run.
  const agent = keepAliveAgent(first.agent);
  const namespace = config.getContextObject(config.getCurrentContext())?.namespace?.trim();
  return {
    server: cluster.server.replace(/\/+$/, ''),
    agent,
    headers: async () => {
      const options = await authenticate();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        if (typeof value === 'string' || typeof value === 'number') headers[name] = String(value);
      }
      if (options.auth) {
        headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      }
      return headers;
    },
    namespace: namespace || undefined,
  };
}

/** One keep-alive agent with the TLS options of client-node's plain agent; a proxy agent as is. */
function keepAliveAgent(built: RequestOptions['agent']): HttpAgent {
  if (built instanceof HttpAgent && built.constructor === HttpsAgent) {
    return new HttpsAgent({ ...(built as HttpsAgent).options, keepAlive: true });
  }
  if (built instanceof HttpAgent && built.constructor === HttpAgent) {
    return new HttpAgent({ keepAlive: true });
  }
  if (built instanceof HttpAgent) return built;
  return new HttpsAgent({ keepAlive: true });
}
