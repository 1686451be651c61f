/**
 * The job's data model: plain shapes the gather step builds from API objects, the decide step
 * reads, and the act step carries out. No library types leak past the adapters.
 */

/**
 * The providers that can route a challenge to the responder (see docs/routing.md); the routers
 * are a `Record<Provider, ChallengeRouter>`, so a new one is a compile error until it has a router.
 */
import type { InvalidEntryReason, SkipReason } from './decide/reasons.js';

export const PROVIDERS = ['nginx', 'gce'] as const;
export type Provider = (typeof PROVIDERS)[number];

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
export const REQUESTER_API_VERSIONS = { Ingress: 'networking.k8s.io/v1' } as const;
export type RequesterKind = keyof typeof REQUESTER_API_VERSIONS;

/** The object that asked for a certificate. */
export interface Requester {
  kind: RequesterKind;
  namespace: string;
  name: string;
  uid: string;
}

/** Where one TLS entry comes from: its requester and the entry's index in its list (`spec.tls`). */
export interface EntryRef extends Requester {
  index: number;
}

/**
 * A requester as the status ConfigMap names it: `namespace/name` for an Ingress — the format the
 * previous version wrote and reads, unchanged — and `Kind:namespace/name` for any other kind.
 */
export function requesterName(requester: Requester): string {
  const name = `${requester.namespace}/${requester.name}`;
  return requester.kind === 'Ingress' ? name : `${String(requester.kind)}:${name}`;
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
  ingressClass: string;
  provider: Provider;
}

/** A TLS entry that cannot be served, with a stable reason and a sentence for the user. */
export interface InvalidEntry {
  ref: EntryRef;
  secretName: string | undefined;
  reason: InvalidEntryReason;
  message: string;
}

/** An annotated Ingress left alone, and why (e.g. its class is not supported). */
export interface SkippedIngress {
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
  /** Decoded `data` (base64 removed), as text. */
  data: Record<string, string>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

/** The type of a Kubernetes Event the job records. */
export type EventType = 'Normal' | 'Warning';
