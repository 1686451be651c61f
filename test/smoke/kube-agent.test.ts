/**
 * Layer: integration. One keep-alive agent for the API requests of a KubeConfig loaded by
 * shared/kube/kube-config.ts (shared/kube/shared-agent.ts): against the real apiserver, a series
 * of requests opens one TLS connection, not one per request, and a request's time limit
 * (shared/kube/request-timeout.ts) still applies on a reused connection.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../shared/kube/kube-config.js';
import { limitKubeRequests } from '../../shared/kube/request-timeout.js';
import { testEnv } from '../env/context.js';

test('ten API requests share one connection', async () => {
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = testEnv().kubeconfig;
  let config;
  try {
    config = loadKubeConfig();
  } finally {
    process.env.KUBECONFIG = saved;
  }
  limitKubeRequests(config, 30_000);
  const core = config.makeApiClient(CoreV1Api);
  let sockets = 0;
  // Every connection an https.Agent opens goes through its createConnection (Node's own code).
  const prototype = https.Agent.prototype as unknown as {
    createConnection: (this: https.Agent, ...args: unknown[]) => unknown;
  };
  const original = prototype.createConnection;
  prototype.createConnection = function (this: https.Agent, ...args: unknown[]) {
    sockets++;
    return original.apply(this, args);
  };
  try {
    for (let i = 0; i < 10; i++) await core.listNamespace({ limit: 1 });
  } finally {
    prototype.createConnection = original;
  }
  assert.equal(sockets, 1, 'one connection for ten sequential requests');
});
