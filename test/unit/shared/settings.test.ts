/** Layer: unit. Settings: parsing, defaults and errors of the job's and the responder's settings. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobSettings, LETS_ENCRYPT_STAGING } from '../../../jobs/config.js';
import { commonSettings } from '../../../shared/config/common-settings.js';
import {
  boolean,
  duration,
  httpUrl,
  integer,
  list,
  namespaceName,
  objectName,
  oneOf,
} from '../../../shared/config/parsers.js';
import { InvalidValue, resolveSettings, setting } from '../../../shared/config/setting.js';
import { ConfigError } from '../../../shared/errors.js';

const HOUR = 3_600_000;

/** Resolves the job's settings from an environment only. */
function fromEnv(env: NodeJS.ProcessEnv) {
  return resolveSettings(jobSettings, {}, env);
}

/** The ConfigError that resolving `env` (and `flags`) throws. */
function configError(env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}): ConfigError {
  let thrown: unknown;
  try {
    resolveSettings(jobSettings, flags, env);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof ConfigError, `expected a ConfigError, got ${String(thrown)}`);
  return thrown;
}

describe('resolveSettings: where a value comes from', () => {
  const table = {
    colour: setting({
      env: 'LEGO_COLOUR',
      aliases: ['LEGO_COLOR'],
      flag: 'colour',
      description: 'test',
      default: 'red',
      parse: oneOf(['red', 'green', 'blue']),
    }),
    optional: setting({
      env: 'LEGO_OPTIONAL',
      flag: 'optional',
      description: 'test',
      default: undefined,
      parse: (raw: string) => raw,
    }),
  };

  test('the default when neither flag nor variable is given', () => {
    assert.deepEqual(resolveSettings(table, {}, {}), { colour: 'red', optional: undefined });
  });

  test('the variable beats the default', () => {
    assert.equal(resolveSettings(table, {}, { LEGO_COLOUR: 'green' }).colour, 'green');
  });

  test('the flag beats the variable', () => {
    assert.equal(
      resolveSettings(table, { colour: 'blue' }, { LEGO_COLOUR: 'green' }).colour,
      'blue',
    );
  });

  test('a flag that is not a string (yargs left it unset) does not count', () => {
    assert.equal(
      resolveSettings(table, { colour: undefined }, { LEGO_COLOUR: 'green' }).colour,
      'green',
    );
  });

  test('an alias is read when the variable is not set; the variable beats the alias', () => {
    assert.equal(resolveSettings(table, {}, { LEGO_COLOR: 'blue' }).colour, 'blue');
    assert.equal(
      resolveSettings(table, {}, { LEGO_COLOUR: 'green', LEGO_COLOR: 'blue' }).colour,
      'green',
    );
  });

  test('an empty variable counts as unset: the alias, then the default, is used', () => {
    assert.equal(resolveSettings(table, {}, { LEGO_COLOUR: '' }).colour, 'red');
    assert.equal(
      resolveSettings(table, {}, { LEGO_COLOUR: '', LEGO_COLOR: 'blue' }).colour,
      'blue',
    );
    assert.equal(resolveSettings(table, {}, { LEGO_OPTIONAL: '' }).optional, undefined);
  });

  test('the error names the source the bad value came from', () => {
    const cases: [Record<string, unknown>, NodeJS.ProcessEnv, string][] = [
      [{ colour: 'pink' }, {}, '--colour="pink"'],
      [{}, { LEGO_COLOUR: 'pink' }, 'LEGO_COLOUR="pink"'],
      [{}, { LEGO_COLOR: 'pink' }, 'LEGO_COLOR="pink"'],
    ];
    for (const [flags, env, named] of cases) {
      assert.throws(
        () => resolveSettings(table, flags, env),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message === `${named} is not valid: expected one of red, green, blue`,
      );
    }
  });

  test('a bad default is reported as the default of its variable', () => {
    const broken = { ...table, colour: { ...table.colour, default: 'pink' } };
    const error = (() => {
      try {
        resolveSettings(broken, {}, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.variable, 'LEGO_COLOUR (default)');
  });

  test('the ConfigError keeps the parser error as its cause', () => {
    const error = configError({ LEGO_PORT: 'http' });
    assert.ok(error.cause instanceof InvalidValue);
  });
});

describe('jobSettings: defaults', () => {
  test('every default parses, to the values kube-lego used', () => {
    const s = resolveSettings(jobSettings, {}, {});
    assert.equal(s.namespace, 'default');
    assert.equal(s.url, LETS_ENCRYPT_STAGING);
    assert.equal(s.url, 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(s.secretName, 'kube-lego-account');
    assert.equal(s.port, 8080);
    assert.equal(s.checkInterval, 8 * HOUR);
    assert.equal(s.minimumValidity, 720 * HOUR);
    assert.equal(s.rsaKeySize, 2048);
    assert.deepEqual(s.supportedIngressClass, ['nginx', 'gce']);
    assert.deepEqual(s.supportedIngressProvider, ['ingress', 'gce']);
    assert.equal(s.defaultIngressClass, 'nginx');
    assert.equal(s.defaultIngressProvider, '');
    assert.equal(s.kubeAnnotation, 'kubernetes.io/tls-acme');
    assert.equal(s.serviceSelector, 'kube-lego');
    assert.equal(s.serviceNameNginx, 'kube-lego-nginx');
    assert.equal(s.serviceNameGce, 'kube-lego-gce');
    assert.equal(s.ingressNameNginx, 'kube-lego-nginx');
    assert.equal(s.backoffMaxElapsedTime, 5 * 60_000);
    assert.equal(s.backoffInitialInterval, 30_000);
    assert.equal(s.logType, 'text');
    assert.equal(s.logLevel, 'info');
    assert.equal(s.email, '');
    assert.equal(s.watchNamespace, '');
    assert.equal(s.keyType, 'rsa');
    assert.equal(s.selfCheck, true);
    assert.equal(s.selfCheckPort, 80);
    assert.equal(s.dnsServer, '');
    assert.equal(s.leaseDuration, 60_000);
    assert.equal(s.acmeTimeout, 30_000);
  });

  test('every setting has a default, a LEGO_ variable and a distinct flag', () => {
    const flags = new Set<string>();
    const variables = new Set<string>();
    for (const [key, spec] of Object.entries(jobSettings)) {
      assert.notEqual(spec.default, undefined, `${key} has a default`);
      assert.match(spec.env, /^LEGO_[A-Z0-9_]+$/, key);
      for (const name of [spec.env, ...(spec.aliases ?? [])]) {
        assert.ok(!variables.has(name), `${name} is used once`);
        variables.add(name);
      }
      assert.ok(!flags.has(spec.flag), `--${spec.flag} is used once`);
      flags.add(spec.flag);
    }
  });

  test('the common settings are part of the job settings', () => {
    for (const key of Object.keys(commonSettings)) assert.ok(key in jobSettings, key);
  });
});

describe('jobSettings: provider names', () => {
  test("kube-lego's nginx is the ingress provider, in both provider settings", () => {
    const s = fromEnv({
      LEGO_EMAIL: 'ops@example.com',
      LEGO_SUPPORTED_INGRESS_PROVIDER: 'NGINX, gce, ingress',
      LEGO_DEFAULT_INGRESS_PROVIDER: 'nginx',
    });
    assert.deepEqual(s.supportedIngressProvider, ['ingress', 'gce']);
    assert.equal(s.defaultIngressProvider, 'ingress');
  });
});

describe('jobSettings: values from the environment', () => {
  test('kube-lego spellings parse', () => {
    const s = fromEnv({
      LEGO_EMAIL: 'ops@example.com',
      LEGO_URL: 'https://acme-v02.api.letsencrypt.org/directory',
      LEGO_PORT: '8081',
      LEGO_CHECK_INTERVAL: '1h30m',
      LEGO_MINIMUM_VALIDITY: '240h',
      LEGO_SUPPORTED_INGRESS_CLASS: ' NGINX , traefik,, ',
      LEGO_SUPPORTED_INGRESS_PROVIDER: 'gce',
      LEGO_DEFAULT_INGRESS_PROVIDER: 'GCE',
      LEGO_RSA_KEYSIZE: '4096',
      LEGO_KEY_TYPE: 'ECDSA-P256',
      LEGO_LOG_TYPE: 'json',
      LEGO_SELF_CHECK: 'no',
      LEGO_DNS_SERVER: '10.0.0.10:53',
      LEGO_WATCH_NAMESPACE: 'shop',
    });
    assert.equal(s.email, 'ops@example.com');
    assert.equal(s.url, 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(s.port, 8081);
    assert.equal(s.checkInterval, 90 * 60_000);
    assert.equal(s.minimumValidity, 240 * HOUR);
    assert.deepEqual(s.supportedIngressClass, ['nginx', 'traefik']);
    assert.deepEqual(s.supportedIngressProvider, ['gce']);
    assert.equal(s.defaultIngressProvider, 'gce');
    assert.equal(s.rsaKeySize, 4096);
    assert.equal(s.keyType, 'ecdsa-p256');
    assert.equal(s.logType, 'json');
    assert.equal(s.selfCheck, false);
    assert.equal(s.dnsServer, '10.0.0.10:53');
    assert.equal(s.watchNamespace, 'shop');
  });

  test('the flag beats the variable for a job setting', () => {
    const s = resolveSettings(jobSettings, { port: '9000' }, { LEGO_PORT: '8081' });
    assert.equal(s.port, 9000);
  });

  test("LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL (kube-lego README's spelling) is an alias", () => {
    assert.equal(
      fromEnv({ LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: '10s' }).backoffInitialInterval,
      10_000,
    );
    assert.equal(
      fromEnv({
        LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '20s',
        LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: '10s',
      }).backoffInitialInterval,
      20_000,
    );
    assert.match(
      configError({ LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: '10' }).message,
      /^LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL="10" is not valid/,
    );
  });

  test('empty variables count as unset: every default applies', () => {
    const empty = Object.fromEntries(
      Object.values(jobSettings).flatMap((spec) =>
        [spec.env, ...(spec.aliases ?? [])].map((name) => [name, '']),
      ),
    );
    assert.deepEqual(fromEnv(empty), resolveSettings(jobSettings, {}, {}));
  });
});

describe('jobSettings: bad values', () => {
  const rows: { name: string; env: NodeJS.ProcessEnv; variable: string; accepted: RegExp }[] = [
    {
      name: 'a port that is a word',
      env: { LEGO_PORT: 'http' },
      variable: 'LEGO_PORT',
      accepted: /a whole number from 1 to 65535/,
    },
    { name: 'port 0', env: { LEGO_PORT: '0' }, variable: 'LEGO_PORT', accepted: /from 1 to 65535/ },
    {
      name: 'port 65536',
      env: { LEGO_PORT: '65536' },
      variable: 'LEGO_PORT',
      accepted: /from 1 to 65535/,
    },
    {
      name: 'a negative port',
      env: { LEGO_PORT: '-80' },
      variable: 'LEGO_PORT',
      accepted: /from 1 to 65535/,
    },
    {
      name: 'a fractional self-check port',
      env: { LEGO_SELF_CHECK_PORT: '80.5' },
      variable: 'LEGO_SELF_CHECK_PORT',
      accepted: /from 1 to 65535/,
    },
    {
      name: 'a duration in days',
      env: { LEGO_MINIMUM_VALIDITY: '30d' },
      variable: 'LEGO_MINIMUM_VALIDITY',
      accepted: /a duration in Go syntax such as 30s, 5m, 8h or 720h/,
    },
    {
      name: 'a duration without unit',
      env: { LEGO_CHECK_INTERVAL: '8' },
      variable: 'LEGO_CHECK_INTERVAL',
      accepted: /Go syntax/,
    },
    {
      name: 'a negative duration',
      env: { LEGO_SELF_CHECK_WAIT: '-10s' },
      variable: 'LEGO_SELF_CHECK_WAIT',
      accepted: /Go syntax/,
    },
    {
      name: 'a check interval under a minute',
      env: { LEGO_CHECK_INTERVAL: '30s' },
      variable: 'LEGO_CHECK_INTERVAL',
      accepted: /of at least 60000ms/,
    },
    {
      name: 'a zero initial interval',
      env: { LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '0' },
      variable: 'LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL',
      accepted: /of at least 1ms/,
    },
    {
      name: 'an unknown key type',
      env: { LEGO_KEY_TYPE: 'ed25519' },
      variable: 'LEGO_KEY_TYPE',
      accepted: /one of rsa, ecdsa-p256, ecdsa-p384/,
    },
    {
      name: 'a URL without scheme',
      env: { LEGO_URL: 'acme.example/directory' },
      variable: 'LEGO_URL',
      accepted: /an absolute http:\/\/ or https:\/\/ URL/,
    },
    {
      name: 'an ftp URL',
      env: { LEGO_URL: 'ftp://acme.example/directory' },
      variable: 'LEGO_URL',
      accepted: /http:\/\/ or https:\/\/ URL/,
    },
    {
      name: 'an upper-case namespace',
      env: { LEGO_NAMESPACE: 'Kube-Lego' },
      variable: 'LEGO_NAMESPACE',
      accepted: /a namespace name/,
    },
    {
      name: 'a namespace with a dot',
      env: { LEGO_NAMESPACE: 'kube.lego' },
      variable: 'LEGO_NAMESPACE',
      accepted: /a namespace name/,
    },
    {
      name: 'a 64-character namespace',
      env: { LEGO_NAMESPACE: 'a'.repeat(64) },
      variable: 'LEGO_NAMESPACE',
      accepted: /at most 63/,
    },
    {
      name: 'a bad watch namespace',
      env: { LEGO_WATCH_NAMESPACE: 'Shop' },
      variable: 'LEGO_WATCH_NAMESPACE',
      accepted: /a namespace name/,
    },
    {
      name: 'RSA 1024',
      env: { LEGO_RSA_KEYSIZE: '1024' },
      variable: 'LEGO_RSA_KEYSIZE',
      accepted: /^2048, 3072 or 4096$/,
    },
    {
      name: 'RSA 2500',
      env: { LEGO_RSA_KEYSIZE: '2500' },
      variable: 'LEGO_RSA_KEYSIZE',
      accepted: /^2048, 3072 or 4096$/,
    },
    {
      name: 'RSA 8192',
      env: { LEGO_RSA_KEYSIZE: '8192' },
      variable: 'LEGO_RSA_KEYSIZE',
      accepted: /^2048, 3072 or 4096$/,
    },
    {
      name: 'an unknown provider',
      env: { LEGO_SUPPORTED_INGRESS_PROVIDER: 'nginx,traefik' },
      variable: 'LEGO_SUPPORTED_INGRESS_PROVIDER',
      accepted: /a comma-separated list of ingress, gce, nginx/,
    },
    {
      name: 'an unknown default provider',
      env: { LEGO_DEFAULT_INGRESS_PROVIDER: 'traefik' },
      variable: 'LEGO_DEFAULT_INGRESS_PROVIDER',
      accepted: /empty or one of ingress, gce, nginx/,
    },
    {
      name: 'no ingress class',
      env: { LEGO_SUPPORTED_INGRESS_CLASS: ' , ' },
      variable: 'LEGO_SUPPORTED_INGRESS_CLASS',
      accepted: /at least one class/,
    },
    {
      name: 'an unknown log type',
      env: { LEGO_LOG_TYPE: 'xml' },
      variable: 'LEGO_LOG_TYPE',
      accepted: /one of text, json/,
    },
    {
      name: 'an unknown log level',
      env: { LEGO_LOG_LEVEL: 'trace' },
      variable: 'LEGO_LOG_LEVEL',
      accepted: /one of debug, info, warn, error/,
    },
    {
      name: 'a bad e-mail',
      env: { LEGO_EMAIL: 'ops at example.com' },
      variable: 'LEGO_EMAIL',
      accepted: /an e-mail address/,
    },
    {
      name: 'a bad Secret name',
      env: { LEGO_SECRET_NAME: 'Kube_Lego' },
      variable: 'LEGO_SECRET_NAME',
      accepted: /a Kubernetes object name/,
    },
    {
      name: 'a DNS server name',
      env: { LEGO_DNS_SERVER: 'dns.example' },
      variable: 'LEGO_DNS_SERVER',
      accepted: /an IP address/,
    },
    {
      name: 'a self-check that is neither true nor false',
      env: { LEGO_SELF_CHECK: 'maybe' },
      variable: 'LEGO_SELF_CHECK',
      accepted: /true or false/,
    },
    {
      name: 'a bad annotation key',
      env: { LEGO_KUBE_ANNOTATION: 'tls acme' },
      variable: 'LEGO_KUBE_ANNOTATION',
      accepted: /an annotation key/,
    },
    {
      name: 'a lease shorter than 5s',
      env: { LEGO_LEASE_DURATION: '1s' },
      variable: 'LEGO_LEASE_DURATION',
      accepted: /at least 5000ms/,
    },
  ];
  for (const row of rows) {
    test(`${row.name}: ConfigError names the variable, the value and what is accepted`, () => {
      const value = Object.values(row.env)[0]!;
      const error = configError(row.env);
      assert.equal(error.variable, row.variable);
      assert.equal(error.value, value);
      assert.match(error.accepted, row.accepted);
      assert.ok(
        error.message.startsWith(
          `${row.variable}=${JSON.stringify(value)} is not valid: expected `,
        ),
        error.message,
      );
      assert.ok(error.message.endsWith(error.accepted), error.message);
    });
  }

  test('a bad flag is reported with its flag name', () => {
    const error = configError({}, { port: 'x' });
    assert.equal(error.variable, '--port');
    assert.equal(error.message, '--port="x" is not valid: expected a whole number from 1 to 65535');
  });
});

describe('parsers', () => {
  test('throw InvalidValue, never a ConfigError (the source is resolveSettings’ business)', () => {
    const parsers: [(raw: string) => unknown, string][] = [
      [duration(), 'x'],
      [integer(1, 2), '3'],
      [oneOf(['a']), 'b'],
      [list(['a']), 'a,b'],
      [httpUrl, 'x'],
      [objectName, 'X'],
      [namespaceName, 'X'],
      [boolean, 'x'],
    ];
    for (const [parse, raw] of parsers) {
      assert.throws(() => parse(raw), InvalidValue, raw);
    }
  });

  test('objectName allows dots and at most 253 characters; namespaceName no dots', () => {
    assert.equal(objectName('web-tls.v2'), 'web-tls.v2');
    assert.throws(() => objectName('a'.repeat(254)), InvalidValue);
    assert.equal(objectName('a'.repeat(253)), 'a'.repeat(253));
    assert.throws(() => objectName('-web'), InvalidValue);
    assert.throws(() => namespaceName('web.tls'), InvalidValue);
  });

  test('boolean accepts true/false, 1/0, yes/no in any case', () => {
    for (const raw of ['true', 'TRUE', '1', 'yes', ' Yes ']) assert.equal(boolean(raw), true, raw);
    for (const raw of ['false', 'False', '0', 'no']) assert.equal(boolean(raw), false, raw);
  });

  test('integer rejects signs, decimals and exponents', () => {
    for (const raw of ['+80', '80.0', '8e1', '', ' ']) {
      assert.throws(() => integer(1, 100)(raw), InvalidValue, raw);
    }
    assert.equal(integer(1, 100)(' 080 '), 80);
  });
});
