/**
 * The job's data model: plain shapes the gather step builds from API objects, the decide step
 * reads, and the act step carries out. No library types leak past the adapters.
 */

/**
 * The providers that can route a challenge to the responder (see docs/routing.md); the routers
 * are a `Record<Provider, ChallengeRouter>`, so a new one is a compile error until it has a router.
 */
import type { InvalidEntryReason, SkipReason } from './decide/reasons.js';
import type { SecretFactsRecord } from '../shared/secret-facts.js';

export const PROVIDERS = ['ingress', 'gce'] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * Every way the job can route a challenge: the Ingress providers above, and `gateway` — an
 * HTTPRoute attached to a Gateway's HTTP listeners (docs/routing.md), the route of every
 * certificate a Gateway listener asks for. Not an Ingress provider: no setting or annotation
 * names it. The routers are a `Record<RoutingProvider, ChallengeRouter>`.
 */
export const ROUTING_PROVIDERS = [...PROVIDERS, 'gateway'] as const;
export type RoutingProvider = (typeof ROUTING_PROVIDERS)[number];

/**
 * Earlier provider names, still accepted wherever a provider is named (settings, the
 * `kubernetes.io/ingress.provider` annotation, a class named like a provider): kube-lego called
 * the `ingress` provider `nginx`.
 */
export const PROVIDER_ALIASES: Readonly<Record<string, Provider>> = { nginx: 'ingress' };

/** The provider `name` (trimmed, lower-cased) means, through its alias if it is one; else undefined. */
export function toProvider(name: string): Provider | undefined {
  const value = name.trim().toLowerCase();
  return (PROVIDERS as readonly string[]).includes(value)
    ? (value as Provider)
    : PROVIDER_ALIASES[value];
}

/** An Ingress as the job sees it, extracted from networking.k8s.io/v1 by the gather step. */
export interface IngressView {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  annotations: Record<string, string>;
  /** `spec.ingressClassName`, if set. */
  ingressClassName: string | undefined;
  /** `spec.tls` as stored; fields are `unknown` because nothing about them is validated yet. */
  tls: { hosts?: unknown; secretName?: unknown }[];
}

/**
 * The kinds of object that can ask for a certificate, with their API version (for Events'
 * `involvedObject`). Discovery turns each into {@link Requester}s; nothing below it depends on
 * the kind, so a second source (Gateway API) adds a member here and its own discovery.
 */
export const REQUESTER_API_VERSIONS = {
  Ingress: 'networking.k8s.io/v1',
  Gateway: 'gateway.networking.k8s.io/v1',
} as const;
export type RequesterKind = keyof typeof REQUESTER_API_VERSIONS;

/** The object that asked for a certificate. */
export interface Requester {
  kind: RequesterKind;
  namespace: string;
  name: string;
  uid: string;
}

/**
 * Where one TLS entry comes from: its requester and the entry's index in its list (`spec.tls`,
 * or a Gateway's `spec.listeners`, whose entries also have a `listener` name).
 */
export interface EntryRef extends Requester {
  index: number;
  listener?: string;
}

/**
 * A Gateway as the job sees it, extracted from gateway.networking.k8s.io/v1 by the gather step
 * (jobs/kube/gateway-source.ts). Listener fields are `unknown`: nothing is validated yet.
 */
export interface GatewayView {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  annotations: Record<string, string>;
  /** `spec.gatewayClassName` (required by the API). */
  gatewayClassName: string;
  listeners: {
    name?: unknown;
    hostname?: unknown;
    port?: unknown;
    protocol?: unknown;
    tls?: unknown;
    allowedRoutes?: unknown;
  }[];
}

/** One HTTP listener of a Gateway: what a challenge HTTPRoute names in `parentRefs`. */
export interface ListenerRef {
  namespace: string;
  /** The Gateway's name. */
  name: string;
  /** The listener's name (`sectionName`). */
  listener: string;
}

/**
 * A requester as the status ConfigMap names it: `namespace/name` for an Ingress — the format the
 * previous version wrote and reads, unchanged — and `Kind:namespace/name` for any other kind.
 */
export function requesterName(requester: Requester): string {
  const name = `${requester.namespace}/${requester.name}`;
  return requester.kind === 'Ingress' ? name : `${requester.kind}:${name}`;
}

/** A certificate the job must keep valid: one per (namespace, secretName). */
export interface DesiredCertificate {
  namespace: string;
  secretName: string;
  /** Normalised (lower-case, punycode), de-duplicated and sorted. */
  hosts: string[];
  /** The Common Name: the first host (in the Ingress's order) of at most 64 characters, if any. */
  commonName: string | undefined;
  /** Every TLS entry that asks for this certificate (identical host sets share one). */
  requesters: EntryRef[];
  /** The Ingress class, or for a Gateway's listener its `gatewayClassName`. */
  ingressClass: string;
  provider: RoutingProvider;
  /**
   * Provider `gateway` only: the HTTP listeners (port 80) through which the challenge HTTPRoute
   * reaches every host, sorted; empty for the Ingress providers.
   */
  httpListeners?: ListenerRef[];
}

/** A TLS entry that cannot be served, with a stable reason and a sentence for the user. */
export interface InvalidEntry {
  ref: EntryRef;
  secretName: string | undefined;
  reason: InvalidEntryReason;
  message: string;
}

/** An annotated Ingress (or Gateway) left alone, and why (e.g. its class is not supported). */
export interface SkippedIngress {
  /** The kind of the object left alone; an Ingress when absent. */
  kind?: RequesterKind;
  namespace: string;
  name: string;
  reason: SkipReason;
  message: string;
}

/** A Secret as gathered: decoded data, or `undefined` when it does not exist. */
export interface SecretView {
  namespace: string;
  name: string;
  type: string;
  resourceVersion: string;
  /** Decoded `data` (base64 removed), as text; without `tls.crt` and `tls.key` when `recorded` is set. */
  data: Record<string, string>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /**
   * Set by the gather step when the last status recorded the facts of this very Secret
   * (jobs/decide/certificate-facts.ts, recordDescribes): that record. Then `data` keeps neither
   * `tls.crt` nor `tls.key` — a no-op run over thousands of certificates holds no PEM at all
   * (issue 13) — and every reading of the Secret's certificate and key (parseSecret,
   * readSecretFacts) answers from the record.
   */
  recorded?: SecretFactsRecord;
}

/** The type of a Kubernetes Event the job records. */
export type EventType = 'Normal' | 'Warning';
