/**
 * How the harness runs kube-apiserver, the way controller-runtime's envtest does: secure port on
 * loopback, RBAC, a client CA for the admin certificate, service-account issuer and keys. Shared
 * by the run's environment and the private apiserver some tests stop and start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import type { IssuedPem, KeyPairPem } from './certs.js';
import { httpsGet } from './probe-get.js';
import type { ServerSpec } from './server-process.js';

/** The service-account issuer every test apiserver uses. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * The ServerProcess spec of a kube-apiserver on `port`, backed by etcd on `etcdPort`. Writes its
 * certificates and keys into `<dir>/apiserver`. Ready when `/readyz` answers `ok` to the admin.
 */
export function kubeApiserverSpec(options: {
  name: string;
  kubeApiserverDir: string;
  dir: string;
  port: number;
  etcdPort: number;
  ca: IssuedPem;
  serving: IssuedPem;
  admin: IssuedPem;
  serviceAccount: KeyPairPem;
  /** Published, never dialled: a documentation address (RFC 5737), since the apiserver refuses
   * a loopback one and there is no default route here (../shared/TEST-ENV.md). */
  advertiseAddress: string;
}): ServerSpec {
  const certDir = join(options.dir, 'apiserver');
  mkdirSync(certDir, { recursive: true });
  const file = (name: string, content: string) => {
    const path = join(certDir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const agent = new Agent({
    ca: options.ca.cert,
    cert: options.admin.cert,
    key: options.admin.key,
  });
  return {
    name: options.name,
    binary: join(options.kubeApiserverDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${options.etcdPort}`,
      `--cert-dir=${certDir}`,
      `--tls-cert-file=${file('serving.crt', options.serving.cert)}`,
      `--tls-private-key-file=${file('serving.key', options.serving.key)}`,
      `--client-ca-file=${file('client-ca.crt', options.ca.cert)}`,
      `--secure-port=${options.port}`,
      '--bind-address=127.0.0.1',
      `--advertise-address=${options.advertiseAddress}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--authorization-mode=RBAC',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${file('sa.pub', options.serviceAccount.publicKey)}`,
      `--service-account-signing-key-file=${file('sa.key', options.serviceAccount.privateKey)}`,
      '--endpoint-reconciler-type=none',
      '--v=0',
    ],
    logFile: join(options.dir, 'kube-apiserver.log'),
    ready: async () => (await httpsGet(`https://127.0.0.1:${options.port}/readyz`, agent)) === 'ok',
    readyTimeoutMs: 90_000,
  };
}

/** A kubeconfig (JSON) that reaches `server` as the admin, trusting `caPem`. */
export function adminKubeconfig(server: string, caPem: string, admin: IssuedPem): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
      users: [
        {
          name: 'admin',
          user: { 'client-certificate-data': b64(admin.cert), 'client-key-data': b64(admin.key) },
        },
      ],
      contexts: [
        { name: 'test', context: { cluster: 'test', user: 'admin', namespace: 'default' } },
      ],
      'current-context': 'test',
    },
    null,
    2,
  );
}
