/**
 * The job's settings: every variable of kube-lego's README with kube-lego's defaults, plus this
 * project's additions in the same style. Each is also a flag (`--email`, `--url`, …).
 */
import { commonSettings } from '../shared/config/common-settings.js';
import {
  boolean,
  duration,
  httpUrl,
  integer,
  list,
  namespaceName,
  objectName,
  oneOf,
  port,
  text,
} from '../shared/config/parsers.js';
import { InvalidValue, setting, type SettingValues } from '../shared/config/setting.js';
import { KEY_TYPES } from './key-type.js';
import { IP_CERTIFICATE_MODES } from './decide/ip-certificates.js';
import { PROVIDER_ALIASES, PROVIDERS, toProvider, type Provider } from './model.js';

const PROVIDER_NAMES = [...PROVIDERS, ...Object.keys(PROVIDER_ALIASES)].join(', ');

function providerList(raw: string): Provider[] {
  const providers = list()(raw).map((item) => {
    const provider = toProvider(item);
    if (provider === undefined)
      throw new InvalidValue(`a comma-separated list of ${PROVIDER_NAMES}`);
    return provider;
  });
  return [...new Set(providers)];
}

/** Let's Encrypt's staging directory: kube-lego's default, so nothing real is issued by mistake. */
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

function email(raw: string): string {
  const value = raw.trim();
  if (value !== '' && !/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(value)) {
    throw new InvalidValue('an e-mail address such as ops@example.com (or empty)');
  }
  return value;
}

function selector(raw: string): string {
  // kube-lego's LEGO_SERVICE_SELECTOR is the value of the pods' `app` label.
  const value = raw.trim();
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(value)) {
    throw new InvalidValue('a label value (letters, digits, "-", "_", ".", at most 63)');
  }
  return value;
}

function dnsServer(raw: string): string {
  const value = raw.trim();
  if (value === '') return '';
  if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/.test(value)) {
    throw new InvalidValue(
      'an IP address with an optional port, such as 10.0.0.10 or 127.0.0.1:8053 (or empty)',
    );
  }
  return value;
}

export const jobSettings = {
  ...commonSettings,
  email: setting({
    env: 'LEGO_EMAIL',
    flag: 'email',
    description: 'Contact e-mail of the ACME account (expiry notices)',
    default: '',
    parse: email,
  }),
  url: setting({
    env: 'LEGO_URL',
    flag: 'url',
    description: "ACME directory URL; the default is Let's Encrypt's staging directory",
    default: LETS_ENCRYPT_STAGING,
    parse: httpUrl,
  }),
  secretName: setting({
    env: 'LEGO_SECRET_NAME',
    flag: 'secret-name',
    description: 'Secret in LEGO_NAMESPACE holding the ACME account keys',
    default: 'kube-lego-account',
    parse: objectName,
  }),
  serviceSelector: setting({
    env: 'LEGO_SERVICE_SELECTOR',
    flag: 'service-selector',
    description: 'Value of the `app` label of the responder pods the challenge Services select',
    default: 'kube-lego',
    parse: selector,
  }),
  serviceNameNginx: setting({
    env: 'LEGO_SERVICE_NAME_NGINX',
    flag: 'service-name-nginx',
    description: 'Service in LEGO_NAMESPACE that routes nginx challenge traffic to the responder',
    default: 'kube-lego-nginx',
    parse: objectName,
  }),
  serviceNameGce: setting({
    env: 'LEGO_SERVICE_NAME_GCE',
    flag: 'service-name-gce',
    description: "NodePort Service made in each gce Ingress's namespace for challenge traffic",
    default: 'kube-lego-gce',
    parse: objectName,
  }),
  supportedIngressClass: setting({
    env: 'LEGO_SUPPORTED_INGRESS_CLASS',
    flag: 'supported-ingress-class',
    description: 'Ingress classes to manage, comma-separated',
    default: 'nginx,gce',
    parse: (raw: string) => {
      const classes = list()(raw);
      if (classes.length === 0)
        throw new InvalidValue('a comma-separated list of at least one class');
      return classes;
    },
  }),
  supportedIngressProvider: setting({
    env: 'LEGO_SUPPORTED_INGRESS_PROVIDER',
    flag: 'supported-ingress-provider',
    description: 'Ingress providers to route challenges through, comma-separated',
    default: 'ingress,gce',
    // `nginx` (kube-lego's name) is read as `ingress`.
    parse: providerList,
  }),
  ingressNameNginx: setting({
    env: 'LEGO_INGRESS_NAME_NGINX',
    flag: 'ingress-name-nginx',
    description: 'Ingress in LEGO_NAMESPACE carrying the nginx challenge routes while orders run',
    default: 'kube-lego-nginx',
    parse: objectName,
  }),
  sources: setting({
    env: 'LEGO_SOURCES',
    flag: 'sources',
    description:
      'Objects that ask for certificates, comma-separated: ingress, gateway; empty means Ingresses, and Gateways when the Gateway API is installed',
    default: '',
    parse: list(['ingress', 'gateway']),
  }),
  supportedGatewayClass: setting({
    env: 'LEGO_SUPPORTED_GATEWAY_CLASS',
    flag: 'supported-gateway-class',
    description:
      'Gateway classes whose Gateways to manage, comma-separated; empty means every class',
    default: '',
    parse: list(),
  }),
  gatewayHttpPort: setting({
    env: 'LEGO_GATEWAY_HTTP_PORT',
    flag: 'gateway-http-port',
    description:
      'Port of the Gateway HTTP listeners the challenge HTTPRoute attaches to: the port the ACME server dials (80, RFC 8555 §8.3)',
    default: '80',
    parse: port,
  }),
  httpRouteName: setting({
    env: 'LEGO_HTTPROUTE_NAME',
    flag: 'httproute-name',
    description:
      "HTTPRoute in LEGO_NAMESPACE carrying a Gateway's challenge routes while orders run",
    default: 'kube-lego-gateway',
    parse: objectName,
  }),
  checkInterval: setting({
    env: 'LEGO_CHECK_INTERVAL',
    flag: 'check-interval',
    description:
      "How often the CronJob runs; only informs the schedule the manifests derive and the status command's staleness warning",
    default: '8h',
    parse: duration(60_000),
  }),
  minimumValidity: setting({
    env: 'LEGO_MINIMUM_VALIDITY',
    flag: 'minimum-validity',
    description:
      'Renew when less validity than this remains (or less than a third of the lifetime; see README)',
    default: '720h',
    parse: duration(),
  }),
  defaultIngressClass: setting({
    env: 'LEGO_DEFAULT_INGRESS_CLASS',
    flag: 'default-ingress-class',
    description:
      'Class of an Ingress that names none (no spec.ingressClassName, no kubernetes.io/ingress.class)',
    default: 'nginx',
    parse: (raw: string) => text(raw).toLowerCase(),
  }),
  defaultIngressProvider: setting({
    env: 'LEGO_DEFAULT_INGRESS_PROVIDER',
    flag: 'default-ingress-provider',
    description:
      'Provider of an Ingress whose class is not itself a provider name and that has no kubernetes.io/ingress.provider annotation; empty means LEGO_DEFAULT_INGRESS_CLASS',
    default: '',
    parse: (raw: string): Provider | '' => {
      if (raw.trim() === '') return '';
      const provider = toProvider(raw);
      if (provider === undefined) throw new InvalidValue(`empty or one of ${PROVIDER_NAMES}`);
      return provider;
    },
  }),
  kubeAnnotation: setting({
    env: 'LEGO_KUBE_ANNOTATION',
    flag: 'kube-annotation',
    description: 'Annotation that, set to "true", asks for certificates for an Ingress',
    default: 'kubernetes.io/tls-acme',
    parse: (raw: string) => {
      const value = raw.trim();
      if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value)) {
        throw new InvalidValue('an annotation key such as kubernetes.io/tls-acme');
      }
      return value;
    },
  }),
  watchNamespace: setting({
    env: 'LEGO_WATCH_NAMESPACE',
    flag: 'watch-namespace',
    description: 'Only look at Ingresses in this namespace; empty means all namespaces',
    default: '',
    parse: (raw: string) => (raw.trim() === '' ? '' : namespaceName(raw)),
  }),
  rsaKeySize: setting({
    env: 'LEGO_RSA_KEYSIZE',
    flag: 'rsa-keysize',
    description: 'RSA key size of certificates when LEGO_KEY_TYPE is rsa',
    default: '2048',
    parse: (raw: string) => {
      // One message for every rejected value: "from 2048 to 4096" would wrongly suggest 2500.
      const size = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (![2048, 3072, 4096].includes(size)) throw new InvalidValue('2048, 3072 or 4096');
      return size;
    },
  }),
  backoffMaxElapsedTime: setting({
    env: 'LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME',
    flag: 'exponential-backoff-max-elapsed-time',
    description: 'How long the self-check of one challenge may keep retrying',
    default: '5m',
    parse: duration(),
  }),
  backoffInitialInterval: setting({
    env: 'LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL',
    aliases: ['LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL'],
    flag: 'exponential-backoff-initial-interval',
    description: 'First wait between self-check attempts; doubles each attempt',
    default: '30s',
    parse: duration(1),
  }),
  podIp: setting({
    env: 'LEGO_POD_IP',
    flag: 'pod-ip',
    description:
      'Accepted for kube-lego compatibility and ignored: the job runs no server, the responder Deployment receives the challenge traffic',
    default: '',
    parse: text,
  }),
  keyType: setting({
    env: 'LEGO_KEY_TYPE',
    flag: 'key-type',
    description:
      'Private key type of certificates: rsa (size from LEGO_RSA_KEYSIZE), ecdsa-p256 or ecdsa-p384',
    default: 'rsa',
    parse: oneOf(KEY_TYPES),
  }),
  selfCheck: setting({
    env: 'LEGO_SELF_CHECK',
    flag: 'self-check',
    description: 'Check that each challenge is served before asking the ACME server to validate it',
    default: 'true',
    parse: boolean,
  }),
  selfCheckWait: setting({
    env: 'LEGO_SELF_CHECK_WAIT',
    flag: 'self-check-wait',
    description:
      'Fixed wait before validation when LEGO_SELF_CHECK is false (routes need time to reach the ingress controller)',
    default: '10s',
    parse: duration(),
  }),
  selfCheckPort: setting({
    env: 'LEGO_SELF_CHECK_PORT',
    flag: 'self-check-port',
    description:
      'Port the self-check dials on each host; 80 is what the ACME server dials (RFC 8555 §8.3)',
    default: '80',
    parse: port,
  }),
  dnsServer: setting({
    env: 'LEGO_DNS_SERVER',
    flag: 'dns-server',
    description: "DNS server the self-check resolves hosts with; empty means the system's resolver",
    default: '',
    parse: dnsServer,
  }),
  renewalInfo: setting({
    env: 'LEGO_RENEWAL_INFO',
    flag: 'renewal-info',
    description:
      "Renew when the ACME server's renewal information (ARI, RFC 9773) suggests, and name the replaced certificate in renewal orders; false: the lifetime rule alone",
    default: 'true',
    parse: boolean,
  }),
  acmeProfile: setting({
    env: 'LEGO_ACME_PROFILE',
    flag: 'acme-profile',
    description:
      "ACME certificate profile to order (e.g. Let's Encrypt's classic or shortlived); empty means the server's default",
    default: '',
    parse: (raw: string) => {
      const value = raw.trim();
      if (value !== '' && !/^[A-Za-z0-9._-]{1,64}$/.test(value))
        throw new InvalidValue('a profile name such as classic');
      return value;
    },
  }),
  ipCertificates: setting({
    env: 'LEGO_IP_CERTIFICATES',
    flag: 'ip-certificates',
    description:
      "Certificates for TLS hosts that are IP addresses (RFC 8738): auto means when LEGO_ACME_PROFILE is Let's Encrypt's shortlived, true for any profile (another CA), false never",
    default: 'auto',
    parse: oneOf(IP_CERTIFICATE_MODES),
  }),
  runBudget: setting({
    env: 'LEGO_RUN_BUDGET',
    flag: 'run-budget',
    description:
      "How long after its start a run may still start an order; later certificates are Deferred to the next run. Keep it well below the Job's activeDeadlineSeconds",
    default: '45m',
    parse: duration(1),
  }),
  maxOrdersPerRun: setting({
    env: 'LEGO_MAX_ORDERS_PER_RUN',
    flag: 'max-orders-per-run',
    description:
      "Orders a run may start; later certificates are Deferred to the next run (Let's Encrypt allows 300 new orders per account per 3 hours)",
    default: '100',
    parse: integer(1, 100_000),
  }),
  leaseName: setting({
    env: 'LEGO_LEASE_NAME',
    flag: 'lease-name',
    description: 'Lease in LEGO_NAMESPACE that keeps two runs from working at once',
    default: 'kube-lego',
    parse: objectName,
  }),
  leaseDuration: setting({
    env: 'LEGO_LEASE_DURATION',
    flag: 'lease-duration',
    description:
      "How long a run's Lease holds without renewal; a crashed run's Lease is taken over after it",
    default: '60s',
    parse: duration(5000),
  }),
  acmeTimeout: setting({
    env: 'LEGO_ACME_TIMEOUT',
    flag: 'acme-timeout',
    description: 'Timeout of each HTTP request to the ACME server',
    default: '30s',
    parse: duration(1000),
  }),
  kubeTimeout: setting({
    env: 'LEGO_KUBE_TIMEOUT',
    flag: 'kube-timeout',
    description:
      'Time limit of each Kubernetes API request, connecting included; after one timeout the run stops',
    default: '30s',
    parse: duration(100),
  }),
  stopGracePeriod: setting({
    env: 'LEGO_STOP_GRACE_PERIOD',
    flag: 'stop-grace-period',
    description:
      "On SIGTERM or SIGINT, how long the order in progress may still finish before it is abandoned; keep it well under the pod's terminationGracePeriodSeconds",
    default: '20s',
    parse: duration(),
  }),
};

export type JobSettings = SettingValues<typeof jobSettings>;
