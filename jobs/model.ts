/**
 * The job's data model: plain shapes the gather step builds from API objects, the decide step
 * reads, and the act step carries out. No library types leak past the adapters.
 */
import type { KeyType, Provider } from './config.js';

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

/** Where one TLS entry comes from. */
export interface IngressRef {
  namespace: string;
  name: string;
  uid: string;
  /** Index of the entry in `spec.tls`. */
  index: number;
}

/** A certificate the job must keep valid: one per (namespace, secretName). */
export interface DesiredCertificate {
  namespace: string;
  secretName: string;
  /** Normalised (lower-case, punycode), de-duplicated and sorted. */
  hosts: string[];
  /** The Common Name: the first host (in the Ingress's order) of at most 64 characters, if any. */
  commonName: string | undefined;
  /** Every Ingress TLS entry that asks for this certificate (identical host sets share one). */
  ingresses: IngressRef[];
  ingressClass: string;
  provider: Provider;
}

/** A TLS entry that cannot be served, with a stable reason and a sentence for the user. */
export interface InvalidEntry {
  ref: IngressRef;
  secretName: string | undefined;
  reason: string;
  message: string;
}

/** An annotated Ingress left alone, and why (e.g. its class is not supported). */
export interface SkippedIngress {
  namespace: string;
  name: string;
  reason: string;
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

/** What certificates the configuration asks for. */
export interface KeyPolicy {
  keyType: KeyType;
  rsaKeySize: number;
}

/** The type of a Kubernetes Event the job records. */
export type EventType = 'Normal' | 'Warning';
