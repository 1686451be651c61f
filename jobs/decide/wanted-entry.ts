/**
 * One valid TLS entry — of an Ingress's `spec.tls` or a Gateway's HTTPS listener — before the
 * entries that name one Secret are grouped into a certificate (desired-certificates.ts).
 */
import type { EntryRef, ListenerRef, RoutingProvider } from '../model.js';

/** A valid entry: the Secret it names, its hosts, and how its challenges are routed. */
export interface WantedEntry {
  ref: EntryRef;
  secretName: string;
  /** Entry order; decides the Common Name. */
  hosts: string[];
  commonName: string | undefined;
  /** The Ingress class, or the Gateway's `gatewayClassName`. */
  ingressClass: string;
  provider: RoutingProvider;
  /** Provider `gateway`: the Gateway's HTTP listeners that reach every host; else empty. */
  httpListeners: ListenerRef[];
}
