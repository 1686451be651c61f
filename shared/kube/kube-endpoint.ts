/**
 * Adapter: how a request reaches the API server — its base URL, one keep-alive connection pool,
 * and the headers that authenticate it. Built from a {@link KubeConnection} here, or by
 * `@kubernetes/client-node` for what only it supports (jobs/kube/delegated-endpoint.ts).
 *
 * One agent per process: every request after the first reuses an open TLS connection instead of
 * a new handshake with the client key parsed again (issue 13: that was a fifth of a run's busy
 * time when client-node built an agent per request). Idle sockets of a keep-alive agent do not
 * keep the process alive (Node unrefs them).
 */
import { Agent as HttpAgent } from '../node-http.js';
import { Agent as HttpsAgent } from 'node:https';
import type { KubeConnection } from './kube-connection.js';

/** Where and how to send API requests. */
export interface KubeEndpoint {
  /** Base URL of the API server, without a trailing slash. */
  server: string;
  /** The connection pool every request uses. */
  agent: HttpAgent;
  /**
   * The headers that authenticate the next request (`Authorization`, `Impersonate-User`).
   * Asked before each request: a token read from a file or an exec plugin may have rotated.
   * @throws KubeLegoError when the credentials cannot be read.
   */
  headers(): Promise<Record<string, string>>;
  /** The namespace of the current context or the pod's ServiceAccount; `undefined` when none. */
  namespace: string | undefined;
}

/**
 * The endpoint of a connection this project reads itself (client certificate, token, token file
 * or ServiceAccount).
 */
export function endpointFromConnection(connection: KubeConnection): KubeEndpoint {
  const secure = connection.server.startsWith('https:');
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, ...connection.tls })
    : new HttpAgent({ keepAlive: true });
  return {
    server: connection.server,
    agent,
    headers: () => {
      const token = connection.bearerToken();
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      return Promise.resolve(headers);
    },
    namespace: connection.namespace,
  };
}
