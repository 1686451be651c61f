/**
 * `npm run demo`: a newcomer's first look. In the local test environment (a real kube-apiserver
 * and Pebble, started by test/env/with-env.sh), creates a sample annotated Ingress, runs the
 * responder and the job as the processes they are in production, and prints what happened.
 */
import { NetworkingV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { annotatedIngress } from '../support/fixtures.js';
import { jobEnv, runJob } from '../support/job-process.js';
import { startResponderProcess } from '../support/responder-process.js';

const lego = await createNamespace('kube-lego');
const app = await createNamespace('shop');
await adminKubeConfig()
  .makeApiClient(NetworkingV1Api)
  .createNamespacedIngress({
    namespace: app,
    body: annotatedIngress('shop', [
      { hosts: ['shop.example.com', 'www.shop.example.com'], secretName: 'shop-tls' },
      { hosts: ['api.shop.example.com'], secretName: 'api-tls' },
    ]),
  });
console.log(`Ingress ${app}/shop asks for two certificates (kubernetes.io/tls-acme: "true").\n`);

// Pebble validates HTTP-01 on this port: the responder listens there, as behind port 80 in a cluster.
const responder = await startResponderProcess({
  namespace: lego,
  port: testEnv().pebble.httpPort,
  host: '127.0.0.1',
  logLevel: 'info',
  logType: 'text',
});
try {
  const env = jobEnv(lego, {
    LEGO_WATCH_NAMESPACE: app,
    LEGO_LOG_TYPE: 'text',
    LEGO_LOG_LEVEL: 'info',
  });
  console.log('$ kube-lego plan');
  console.log((await runJob(env, ['plan'])).stdout);
  console.log('$ kube-lego run   (the CronJob)');
  const run = await runJob(env);
  process.stdout.write(run.stderr.replace(/^/gm, '  '));
  console.log(`exit code ${run.code}\n`);
  console.log('$ kube-lego status');
  console.log((await runJob(env, ['status'])).stdout);
  process.exitCode = run.code ?? 1;
} finally {
  await responder.stop();
}
