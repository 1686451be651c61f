/**
 * Adapter: one keep-alive agent for every API request a KubeConfig makes.
 *
 * @kubernetes/client-node 1.4 builds a new `https.Agent` in each `applySecurityAuthentication`,
 * so every request opens a new TCP connection, does a full TLS handshake and parses the client
 * key and certificates again (about a fifth of a run's busy time over ten certificates). Here the
 * agent client-node built is replaced by a keep-alive agent made once from the same options:
 * the CA, client certificate and key, `rejectUnauthorized` and `servername` are exactly those
 * client-node chose, so nothing about trust changes; only connections are reused. A change of
 * those options (a rotated client certificate file) gets a new agent. Proxy agents
 * (`proxy-url` in the kubeconfig) are left as client-node makes them.
 *
 * Idle sockets of a keep-alive agent do not keep the process alive (Node unrefs them), and a
 * request aborted by its time limit (shared/kube/request-timeout.ts) destroys its socket, so the
 * limit holds as before.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

// The agent options client-node sets (config.js, applySecurityAuthentication): the identity of
// an agent. Tokens are headers, not agent options: a rotated token needs no new agent.
const IDENTITY = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'];

/** Makes every request of `config` use one keep-alive agent per set of TLS options. In place. */
export function shareOneAgent(config: KubeConfig): void {
  const agents = new Map<string, http.Agent>();
  const original = config.applySecurityAuthentication.bind(config);
  config.applySecurityAuthentication = async (context) => {
    await original(context);
    const built = context.getAgent();
    // Exactly the plain classes: hpagent's and socks' proxy agents subclass them.
    const kind =
      built?.constructor === https.Agent
        ? 'https'
        : built?.constructor === http.Agent
          ? 'http'
          : undefined;
    if (!built || !kind) return;
    const options = (built as https.Agent).options as Record<string, unknown>;
    const key = identityOf(kind, options);
    let agent = agents.get(key);
    if (!agent) {
      const keepAlive = { ...options, keepAlive: true };
      agent = kind === 'https' ? new https.Agent(keepAlive) : new http.Agent(keepAlive);
      agents.set(key, agent);
    }
    context.setAgent(agent);
  };
}

function identityOf(kind: string, options: Record<string, unknown>): string {
  const hash = createHash('sha256').update(kind);
  for (const name of IDENTITY) {
    const value = options[name];
    hash.update(`\0${name}=`);
    if (Buffer.isBuffer(value) || typeof value === 'string') hash.update(value);
    else if (value !== undefined) hash.update(JSON.stringify(value));
  }
  return hash.digest('hex');
}
