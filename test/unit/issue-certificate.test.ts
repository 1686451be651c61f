/**
 * Layer: component (socket-free). issueCertificate (jobs/issue/issue-certificate.ts) with fakes of
 * its ports — a certificate authority that records when it validates, the challenge store, the
 * routes, the self-check and the Secret store — all writing to one call log, so the order of the
 * steps is asserted: routes opened, tokens presented, self-checked, validated, tokens cleaned up
 * and routes closed in `finally`, and only then the Secret written.
 */
import type { KeptCertificate } from '../../shared/kept-certificates.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  CertificateAuthority,
  CertificateRequest,
  ChallengeHooks,
  CollectedOrder,
} from '../../jobs/acme/certificate-authority.js';
import {
  collectKeptOrder,
  InvalidChainError,
  issueCertificate,
  type IssueDependencies,
} from '../../jobs/issue/issue-certificate.js';
import type { CertificateToStore } from '../../jobs/kube/secret-store.js';
import { SECRET_ANNOTATIONS } from '../../jobs/tls-secret.js';
import type { ChallengeEntry } from '../../shared/challenge-entries.js';
import { AcmeError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { DAY, NOW, at, certificate, desired } from './decide/fixtures.js';

const DIRECTORY = 'https://acme.test/directory';
const HOSTS = ['a.example', 'b.example'];

/** A certificate authority that presents one challenge per host and records its validation. */
class FakeAuthority implements CertificateAuthority {
  readonly directoryUrl = DIRECTORY;
  constructor(
    private readonly calls: string[],
    private readonly outcome: { chain: string } | { error: Error },
  ) {}

  async obtain(request: CertificateRequest, hooks: ChallengeHooks): Promise<string> {
    const challenges: ChallengeEntry[] = request.hosts.map((domain) => ({
      token: `token-${domain.replace('.', '-')}`,
      domain,
      keyAuthorization: `token-${domain.replace('.', '-')}.thumbprint`,
    }));
    try {
      await hooks.present(challenges);
      this.calls.push('validate');
      if ('error' in this.outcome) throw this.outcome.error;
    } finally {
      await hooks.cleanup(challenges);
    }
    await hooks.finalizing?.('https://acme.test/order/1');
    return this.outcome.chain;
  }

  collect(): Promise<CollectedOrder> {
    this.calls.push('collect');
    return Promise.resolve(
      'error' in this.outcome
        ? { unusable: 'the order is invalid' }
        : { chainPem: this.outcome.chain },
    );
  }
}

interface Options {
  chain?: string;
  obtainError?: Error;
  selfCheckError?: Error;
  removeError?: Error;
  closeError?: Error;
  dryRunError?: Error;
  storeError?: Error;
}

function setup(options: Options = {}) {
  const calls: string[] = [];
  const stored: CertificateToStore[] = [];
  const warnings: string[] = [];
  const logger = createLogger({
    level: 'warn',
    type: 'json',
    now: () => NOW,
    write: (line) => warnings.push((JSON.parse(line) as { msg: string }).msg),
  });
  const chain =
    options.chain ??
    certificate({ key: 'rsa-a', dnsNames: HOSTS, notBefore: at(-DAY), notAfter: at(90 * DAY) });
  const kept: KeptCertificate[] = [];
  const deps: IssueDependencies = {
    keep: (entry) => {
      calls.push('keep');
      kept.push(entry);
      return Promise.resolve();
    },
    removeKept: () => {
      calls.push('remove kept');
      return Promise.resolve();
    },
    authority: new FakeAuthority(
      calls,
      options.obtainError ? { error: options.obtainError } : { chain },
    ),
    createCsr: (hosts) => {
      calls.push(`csr ${hosts.join(',')}`);
      return Promise.resolve(Buffer.from('csr'));
    },
    challenges: {
      add: (entries) => {
        calls.push(`present ${entries.map((e) => e.domain).join(',')}`);
        return Promise.resolve();
      },
      remove: (tokens) => {
        calls.push(`cleanup ${tokens.length}`);
        return options.removeError ? Promise.reject(options.removeError) : Promise.resolve();
      },
    },
    routes: {
      open: () => {
        calls.push('open routes');
        return Promise.resolve();
      },
      close: () => {
        calls.push('close routes');
        return options.closeError ? Promise.reject(options.closeError) : Promise.resolve();
      },
    },
    secrets: {
      checkCertificateWrite: () => {
        calls.push('dry-run store');
        return options.dryRunError ? Promise.reject(options.dryRunError) : Promise.resolve();
      },
      storeCertificate: (toStore) => {
        calls.push('store');
        if (options.storeError) return Promise.reject(options.storeError);
        stored.push(toStore);
        return Promise.resolve();
      },
    },
    waitUntilServed: (entries) => {
      calls.push(`self-check ${entries.length}`);
      return options.selfCheckError ? Promise.reject(options.selfCheckError) : Promise.resolve();
    },
    keyPolicy: { keyType: 'ecdsa-p256', rsaKeySize: 2048 },
    logger,
    now: () => NOW,
  };
  return { deps, calls, stored, kept, warnings };
}

const ORDERED = [
  'dry-run store',
  'csr a.example,b.example',
  'open routes',
  'present a.example,b.example',
  'self-check 2',
  'validate',
  'cleanup 2',
  'close routes',
];

/** The order recorded before finalization, inside the order (routes still open). */
const FINALIZED = [...ORDERED.slice(0, -1), 'keep', 'close routes'];

describe('issueCertificate: the order of the steps', () => {
  test('present, self-check, validate, cleanup, close; then the Secret is written', async () => {
    const { deps, calls, stored } = setup();
    const issued = await issueCertificate(desired(HOSTS), deps);
    assert.deepEqual(calls, [...FINALIZED, 'store', 'remove kept']);
    assert.equal(
      issued.notAfter.toISOString(),
      at(90 * DAY)
        .toISOString()
        .replace(/\.\d+Z$/, '.000Z'),
    );
    const [written] = stored;
    assert.ok(written);
    assert.equal(written.name, 'web-tls');
    assert.match(written.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(written.annotations[SECRET_ANNOTATIONS.directoryUrl], DIRECTORY);
    assert.equal(written.annotations[SECRET_ANNOTATIONS.hosts], 'a.example,b.example');
  });

  test('a failed validation: tokens cleaned up and routes closed in finally, nothing stored', async () => {
    const failure = new AcmeError(
      'unauthorized',
      'urn:ietf:params:acme:error:unauthorized',
      undefined,
    );
    const { deps, calls, stored } = setup({ obtainError: failure });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), failure);
    assert.deepEqual(calls, ORDERED);
    assert.deepEqual(stored, []);
  });

  test('a failed self-check: never validated, still cleaned up and closed, nothing stored', async () => {
    const failure = new Error('not served');
    const { deps, calls, stored } = setup({ selfCheckError: failure });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), failure);
    assert.deepEqual(
      calls,
      ORDERED.filter((call) => call !== 'validate'),
    );
    assert.deepEqual(stored, []);
  });

  test('cleanup failures are logged and do not hide the original error', async () => {
    const failure = new Error('validation failed');
    const { deps, calls, warnings } = setup({
      obtainError: failure,
      removeError: new Error('ConfigMap gone'),
      closeError: new Error('Ingress gone'),
    });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), failure);
    assert.deepEqual(calls, ORDERED);
    assert.equal(warnings.length, 2, 'one warning for the tokens, one for the routes');
  });

  test('a chain for other names is refused after cleanup, and not stored', async () => {
    const chain = certificate({
      key: 'rsa-a',
      dnsNames: ['a.example'],
      notBefore: at(-DAY),
      notAfter: at(90 * DAY),
    });
    const { deps, calls, stored } = setup({ chain });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), InvalidChainError);
    // Its order is forgotten too: no later run downloads that chain again.
    assert.deepEqual(calls, [...FINALIZED, 'remove kept']);
    assert.deepEqual(stored, []);
  });

  test('a refused dry run of the Secret write: nothing is ordered, no route opened', async () => {
    const refused = new Error('denied by policy');
    const { deps, calls, stored } = setup({ dryRunError: refused });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), refused);
    assert.deepEqual(calls, ['dry-run store']);
    assert.deepEqual(stored, []);
  });

  test('a Secret write that fails after the order: the certificate is kept, not thrown away', async () => {
    const refused = new Error('the API server refused the write');
    const { deps, calls, kept } = setup({ storeError: refused });
    await assert.rejects(issueCertificate(desired(HOSTS), deps), refused);
    assert.deepEqual(calls, [...FINALIZED, 'store', 'keep']);
    assert.equal(kept.length, 2);
    // Before finalization: the order and the key, no chain yet (RFC 8555 §7.4).
    assert.equal(kept[0]?.orderUrl, 'https://acme.test/order/1');
    assert.equal(kept[0]?.certificatePem, undefined);
    assert.match(kept[0]?.privateKeyPem ?? '', /BEGIN PRIVATE KEY/);
    // After the failed write: the chain too.
    assert.deepEqual(kept[1]?.hosts, [...HOSTS].sort());
    assert.equal(kept[1]?.directoryUrl, DIRECTORY);
    assert.equal(kept[1]?.privateKeyPem, kept[0]?.privateKeyPem);
    assert.match(kept[1]?.certificatePem ?? '', /BEGIN CERTIFICATE/);
  });

  test('the order cannot be recorded before finalization: nothing is finalized, nothing stored', async () => {
    const gone = new Error('the API server is gone');
    const { deps, calls, stored } = setup();
    deps.keep = () => Promise.reject(gone);
    await assert.rejects(issueCertificate(desired(HOSTS), deps), gone);
    assert.deepEqual(calls, ORDERED);
    assert.deepEqual(stored, []);
  });
});

describe('collectKeptOrder: a kept order is downloaded, not ordered again', () => {
  const KEPT_ORDER = {
    namespace: 'shop',
    secretName: 'web-tls',
    hosts: [...HOSTS],
    keyType: 'ecdsa-p256',
    directoryUrl: DIRECTORY,
    keptAt: NOW.toISOString(),
    orderUrl: 'https://acme.test/order/1',
    privateKeyPem: '-----BEGIN PRIVATE KEY-----\nkept\n-----END PRIVATE KEY-----\n',
  };

  test('the order gives its certificate: stored with the kept key, the entry removed', async () => {
    const { deps, calls, stored } = setup();
    const issued = await collectKeptOrder(desired(HOSTS), KEPT_ORDER, deps);
    assert.ok(issued);
    assert.deepEqual(calls, ['csr a.example,b.example', 'collect', 'store', 'remove kept']);
    assert.equal(stored[0]?.privateKeyPem, KEPT_ORDER.privateKeyPem);
  });

  test('an order that can no longer give one: the entry is removed, the caller orders', async () => {
    const { deps, calls, stored } = setup({ obtainError: new Error('unused') });
    assert.equal(await collectKeptOrder(desired(HOSTS), KEPT_ORDER, deps), undefined);
    assert.deepEqual(calls, ['csr a.example,b.example', 'collect', 'remove kept']);
    assert.deepEqual(stored, []);
  });
});
