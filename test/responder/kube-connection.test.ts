/**
 * Layer: component (socket-free; kubeconfig files in a temporary folder).
 * Finding the API server: a JSON or YAML kubeconfig (files relative to it), KUBECONFIG's first
 * file, the pod's ServiceAccount (its token read again on each request), clear errors otherwise.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DelegatedKubeAuthError, loadKubeConnection } from '../../shared/kube/kube-connection.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-connection-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const b64 = (s: string) => Buffer.from(s).toString('base64');
const noHome = join(dir, 'no-home');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [
      { name: 'other', context: { cluster: 'missing', user: 'u' } },
      { name: 'ctx', context: { cluster: 'c', user: 'u' } },
    ],
    'current-context': 'ctx',
  };
}

describe('loadKubeConnection', () => {
  test('a JSON kubeconfig with inline data and a token', async () => {
    const file = join(dir, 'inline.json');
    writeFileSync(
      file,
      JSON.stringify(
        kubeconfig(
          { token: 'tok-1', 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
          { 'certificate-authority-data': b64('CA'), 'tls-server-name': 'kubernetes' },
        ),
      ),
    );
    const c = await loadKubeConnection({ env: { KUBECONFIG: file }, home: noHome });
    assert.equal(c.server, 'https://127.0.0.1:6443');
    assert.deepEqual(c.tls, {
      ca: 'CA',
      cert: 'CERT',
      key: 'KEY',
      rejectUnauthorized: true,
      servername: 'kubernetes',
    });
    assert.equal(c.bearerToken(), 'tok-1');
    assert.equal(c.source, `kubeconfig ${file} (ctx)`);
  });

  test('files named in a kubeconfig are relative to it; KUBECONFIG takes its first file', async () => {
    const sub = join(dir, 'relative');
    mkdirSync(sub);
    writeFileSync(join(sub, 'ca.crt'), 'CA-FILE');
    writeFileSync(join(sub, 'token'), 'tok-file\n');
    const file = join(sub, 'config.json');
    writeFileSync(
      file,
      JSON.stringify(
        kubeconfig(
          { tokenFile: 'token' },
          { 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true },
        ),
      ),
    );
    const c = await loadKubeConnection({
      env: { KUBECONFIG: `${file}${delimiter}/nonexistent` },
      home: noHome,
    });
    assert.equal(c.tls.ca, 'CA-FILE');
    assert.equal(c.tls.rejectUnauthorized, false);
    assert.equal(c.bearerToken(), 'tok-file');
    writeFileSync(join(sub, 'token'), 'tok-rotated');
    assert.equal(c.bearerToken(), 'tok-rotated', 'read again for each request');
  });

  test('a YAML kubeconfig', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(join(dir, 'yaml-ca.crt'), 'YAML-CA');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: c',
        '  cluster:',
        '    server: https://kube.example:443',
        '    certificate-authority: yaml-ca.crt',
        'users:',
        '- name: u',
        '  user:',
        '    token: yaml-token',
        'contexts:',
        '- name: ctx',
        "  context: {cluster: c, user: u, namespace: ' team-a '}",
        'current-context: ctx',
        '',
      ].join('\n'),
    );
    const c = await loadKubeConnection({ env: { KUBECONFIG: file }, home: noHome });
    assert.equal(c.server, 'https://kube.example:443');
    assert.equal(c.tls.ca, 'YAML-CA');
    assert.equal(c.bearerToken(), 'yaml-token');
    assert.equal(c.namespace, 'team-a', "the context's namespace, trimmed");
  });

  test('what only client-node does is refused as delegated: several files to merge (when asked), a proxy', async () => {
    const file = join(dir, 'plain.json');
    writeFileSync(file, JSON.stringify(kubeconfig({ token: 't' })));
    const two = { KUBECONFIG: `${file}${delimiter}${file}` };
    assert.equal((await loadKubeConnection({ env: two, home: noHome })).namespace, undefined);
    await assert.rejects(
      loadKubeConnection({ env: two, home: noHome, singleFile: true }),
      (error: unknown) => error instanceof DelegatedKubeAuthError && /2 files/.test(error.message),
    );
    const proxied = join(dir, 'proxied.json');
    writeFileSync(
      proxied,
      JSON.stringify(kubeconfig({ token: 't' }, { 'proxy-url': 'http://127.0.0.1:3128' })),
    );
    await assert.rejects(
      loadKubeConnection({ env: { KUBECONFIG: proxied }, home: noHome }),
      (error: unknown) =>
        error instanceof DelegatedKubeAuthError && /proxy-url/.test(error.message),
    );
  });

  test('an exec or auth-provider user is refused with a reason', async () => {
    const file = join(dir, 'exec.json');
    writeFileSync(file, JSON.stringify(kubeconfig({ exec: { command: 'aws', apiVersion: 'x' } })));
    await assert.rejects(
      loadKubeConnection({ env: { KUBECONFIG: file }, home: noHome }),
      (error: unknown) =>
        error instanceof DelegatedKubeAuthError &&
        /exec plugin.*client certificate or a token/.test(error.message),
    );
  });

  test('a kubeconfig without a current context or server is refused', async () => {
    const file = join(dir, 'nocontext.json');
    writeFileSync(file, JSON.stringify({ ...kubeconfig({}), 'current-context': 'other' }));
    await assert.rejects(
      loadKubeConnection({ env: { KUBECONFIG: file }, home: noHome }),
      /has no server for context "other"/,
    );
    writeFileSync(file, JSON.stringify({ ...kubeconfig({}), 'current-context': undefined }));
    await assert.rejects(
      loadKubeConnection({ env: { KUBECONFIG: file }, home: noHome }),
      /has no current context/,
    );
  });

  test('in a pod: the ServiceAccount token and CA, the token read again each time', async () => {
    const sa = join(dir, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'sa-token-1\n');
    writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
    writeFileSync(join(sa, 'namespace'), 'kube-lego\n');
    const c = await loadKubeConnection({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      home: noHome,
      serviceAccountDir: sa,
    });
    assert.equal(c.server, 'https://[fd00::1]:443');
    assert.equal(c.tls.ca, 'SA-CA');
    assert.equal(c.source, 'in-cluster');
    assert.equal(c.namespace, 'kube-lego', "the ServiceAccount's namespace file");
    assert.equal(c.bearerToken(), 'sa-token-1');
    writeFileSync(join(sa, 'token'), 'sa-token-2\n');
    assert.equal(c.bearerToken(), 'sa-token-2');
  });

  test('nothing configured: a clear error', async () => {
    await assert.rejects(
      loadKubeConnection({ env: {}, home: noHome, serviceAccountDir: join(dir, 'none') }),
      /no Kubernetes configuration: KUBECONFIG is not set/,
    );
    await assert.rejects(
      loadKubeConnection({ env: { KUBECONFIG: join(dir, 'missing') }, home: noHome }),
      /cannot read the kubeconfig/,
    );
  });
});
