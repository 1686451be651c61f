/**
 * Adapter: the account Secret LEGO_SECRET_NAME in LEGO_NAMESPACE. It holds one ACME account per
 * directory URL, so switching LEGO_URL from staging to production registers a second account and
 * keeps the first:
 *
 *   accounts.json          [{ directoryUrl, accountUrl, email, registeredAt, keyName }]
 *   account-<hash>.key     the account's private key (PEM), one per directory
 *
 * kube-lego's own keys (`tls.key`, the account key, and `acme-registration-url`) are read as a
 * legacy key and never removed.
 */
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { SECRETS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { MANAGED_BY } from '../../shared/labels.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';
import { retryOnConflict } from './retry-on-conflict.js';

/** One registered ACME account. */
export interface AccountRecord {
  directoryUrl: string;
  accountUrl: string;
  privateKeyPem: string;
  email: string;
  registeredAt: string;
}

export interface AccountSecretContents {
  accounts: AccountRecord[];
  /** kube-lego's account key (`tls.key`), if the Secret is one kube-lego wrote. */
  legacyKeyPem: string | undefined;
  /** Entries of accounts.json that could not be used, and why. */
  problems: string[];
}

const INDEX_KEY = 'accounts.json';

export class AccountSecretStore {
  constructor(
    private readonly kube: KubeHttp,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  /**
   * Reads every account; an absent Secret holds none.
   * @throws KubeApiError on API failures.
   */
  async read(): Promise<AccountSecretContents> {
    const secret = await this.get();
    return parseAccountSecret(secret?.data);
  }

  /**
   * Adds or replaces the account of `record.directoryUrl`, keeping every other key of the Secret.
   * @throws KubeApiError on API failures.
   */
  async save(record: AccountRecord): Promise<void> {
    const operation = `save account Secret ${this.namespace}/${this.name}`;
    // A concurrent write (409) is retried from a fresh read, twice at most.
    await retryOnConflict(
      async () => {
        const secret = await this.get();
        const data = { ...(secret?.data ?? {}) };
        const current = parseAccountSecret(data);
        const keyName = accountKeyName(record.directoryUrl);
        const index = current.accounts
          .filter((a) => a.directoryUrl !== record.directoryUrl)
          .map((a) => ({ ...withoutKey(a), keyName: accountKeyName(a.directoryUrl) }));
        index.push({ ...withoutKey(record), keyName });
        data[INDEX_KEY] = b64(JSON.stringify(index, null, 2));
        data[keyName] = b64(record.privateKeyPem);
        await kubeCall(operation, () =>
          secret
            ? // The read resourceVersion travels in `metadata`: a concurrent write is a 409.
              this.kube.replace(SECRETS, this.namespace, this.name, { ...secret, data })
            : this.kube.create(SECRETS, this.namespace, {
                metadata: {
                  name: this.name,
                  namespace: this.namespace,
                  labels: { ...MANAGED_BY },
                },
                type: 'Opaque',
                data,
              } satisfies V1Secret),
        );
      },
      { attempts: 3 },
    );
  }

  private get(): Promise<Wire<V1Secret> | undefined> {
    return kubeCallUnlessNotFound(`get account Secret ${this.namespace}/${this.name}`, () =>
      this.kube.get<Wire<V1Secret>>(SECRETS, this.namespace, this.name),
    );
  }
}

/** Reads the Secret's base64 `data`. Never throws; unusable entries are listed in `problems`. */
export function parseAccountSecret(
  data: Record<string, string> | undefined,
): AccountSecretContents {
  const text = (key: string) =>
    data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined;
  const problems: string[] = [];
  const accounts: AccountRecord[] = [];
  const index = text(INDEX_KEY);
  if (index !== undefined) {
    let entries: unknown;
    try {
      entries = JSON.parse(index);
    } catch {
      problems.push(`${INDEX_KEY} is not JSON`);
    }
    for (const entry of Array.isArray(entries) ? (entries as Record<string, unknown>[]) : []) {
      const keyPem = typeof entry.keyName === 'string' ? text(entry.keyName) : undefined;
      if (
        typeof entry.directoryUrl !== 'string' ||
        typeof entry.accountUrl !== 'string' ||
        !keyPem
      ) {
        problems.push(`an entry of ${INDEX_KEY} lacks directoryUrl, accountUrl or its key`);
        continue;
      }
      accounts.push({
        directoryUrl: entry.directoryUrl,
        accountUrl: entry.accountUrl,
        privateKeyPem: keyPem,
        email: typeof entry.email === 'string' ? entry.email : '',
        registeredAt: typeof entry.registeredAt === 'string' ? entry.registeredAt : '',
      });
    }
  }
  const legacy = text('tls.key');
  return { accounts, legacyKeyPem: legacy?.includes('PRIVATE KEY') ? legacy : undefined, problems };
}

function withoutKey(record: AccountRecord): Omit<AccountRecord, 'privateKeyPem'> {
  return {
    directoryUrl: record.directoryUrl,
    accountUrl: record.accountUrl,
    email: record.email,
    registeredAt: record.registeredAt,
  };
}

/** The Secret key holding the account key of a directory: stable, and a valid Secret key. */
function accountKeyName(directoryUrl: string): string {
  return `account-${createHash('sha256').update(directoryUrl).digest('hex').slice(0, 12)}.key`;
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}
