/**
 * Builds the adapters a command needs from the settings: the one place where the job's ports
 * meet @kubernetes/client-node. Each command takes only what it uses.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  NetworkingV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { loadKubeConfig } from '../../shared/kube/kube-config.js';
import { limitKubeRequests } from '../../shared/kube/request-timeout.js';
import type { JobSettings } from '../config.js';
import { listIngresses } from '../kube/ingress-source.js';
import { countKubeRequests, type RequestCounter } from '../kube/request-counter.js';
import { SecretStore } from '../kube/secret-store.js';
import { StatusStore } from '../kube/status-store.js';
import type { DecisionSettings, GatherPorts } from '../run/snapshot.js';
import type { StopRequest } from '../run/stop-request.js';

/** What every command gets besides its settings and logger. */
export interface CommandContext {
  /** The run's clock (jobs/test-clock.ts). */
  now: () => Date;
  /** Set by SIGTERM or SIGINT (jobs/run/stop-request.ts). */
  stop: StopRequest;
}

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  coordination: CoordinationV1Api;
  requests: RequestCounter;
}

/**
 * API clients for the current context (in-cluster or kubeconfig), with a request counter; every
 * request is limited to `settings.kubeTimeout` (shared/kube/request-timeout.ts).
 */
export function kubeClients(settings: Pick<JobSettings, 'kubeTimeout'>): KubeClients {
  const config = loadKubeConfig();
  limitKubeRequests(config, settings.kubeTimeout);
  const requests = countKubeRequests(config);
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    networking: config.makeApiClient(NetworkingV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    requests,
  };
}

/** The gather ports over the real API. */
export function gatherPorts(clients: KubeClients, settings: JobSettings): GatherPorts {
  const secrets = new SecretStore(clients.core);
  const status = new StatusStore(clients.core, settings.namespace, settings.statusConfigMap);
  return {
    listIngresses: () => listIngresses(clients.networking, settings.watchNamespace),
    listTlsSecrets: () => secrets.listTlsSecrets(settings.watchNamespace),
    getSecret: (namespace, name) => secrets.get(namespace, name),
    readStatus: () => status.read(),
  };
}

/** The decide step's view of the settings. */
export function decisionSettings(settings: JobSettings): DecisionSettings {
  return {
    kubeAnnotation: settings.kubeAnnotation,
    supportedIngressClass: settings.supportedIngressClass,
    supportedIngressProvider: settings.supportedIngressProvider,
    defaultIngressClass: settings.defaultIngressClass,
    defaultIngressProvider: settings.defaultIngressProvider,
    directoryUrl: settings.url,
    keyPolicy: { keyType: settings.keyType, rsaKeySize: settings.rsaKeySize },
    minimumValidityMs: settings.minimumValidity,
  };
}
