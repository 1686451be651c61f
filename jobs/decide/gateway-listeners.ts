/**
 * From annotated Gateways (Gateway API, gateway.networking.k8s.io/v1) to wanted entries: each
 * HTTPS listener, or TLS listener that terminates TLS, with a `hostname` and a Secret of the
 * Gateway's namespace in `tls.certificateRefs` wants a certificate for that hostname in that
 * Secret. Grouping by Secret, with the Ingresses' entries, is desired-certificates.ts's.
 *
 * A listener without a hostname is rejected rather than completed from the hostnames of the
 * HTTPRoutes attached to it: those routes may live in other namespaces (as the listener's
 * `allowedRoutes` allow), so their authors would decide which names go into a certificate
 * stored in the Gateway owner's Secret, and the certificate would change with every route.
 * The Gateway's owner names the host, as an Ingress's owner names its TLS hosts.
 */
import type { JobSettings } from '../config.js';
import type { EntryRef, GatewayView, InvalidEntry, ListenerRef, SkippedIngress } from '../model.js';
import { normalizeHosts } from './hosts.js';
import type { ListenerRejectionReason } from './reasons.js';
import { readSecretName } from './secret-name.js';
import type { WantedEntry } from './wanted-entry.js';

/** The API group of Gateway API objects (the default group of an `allowedRoutes.kinds` entry). */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** The settings {@link collectGatewayEntries} reads. */
export type GatewayListenerSettings = Pick<
  JobSettings,
  'kubeAnnotation' | 'supportedGatewayClass' | 'namespace' | 'gatewayHttpPort'
>;

/** What {@link collectGatewayEntries} found, in the order of the Gateways and listeners. */
export interface GatewayEntries {
  entries: WantedEntry[];
  invalid: InvalidEntry[];
  skipped: SkippedIngress[];
}

/**
 * Decides which certificates the annotated Gateways' listeners want.
 *
 * A Gateway is considered only when its annotation `settings.kubeAnnotation` is `"true"` (any
 * case), as an Ingress is; another value on a Gateway with certificate listeners is reported in
 * `skipped` (`AnnotationNotTrue`). Its `gatewayClassName` must be in
 * `settings.supportedGatewayClass` when that list is not empty (`UnsupportedGatewayClass`); a
 * Gateway with no certificate listener is skipped (`NoTlsEntries`).
 *
 * A certificate listener is one of protocol `HTTPS`, or `TLS` with `tls.mode` `Terminate` (the
 * default); a `Passthrough` listener serves the backend's certificate and is not ours. Each is
 * invalid when: it has no hostname (`ListenerWithoutHostname`); its hostname is a wildcard, an
 * IP address or not a DNS name (the host reasons of hosts.ts); it has no `certificateRefs`
 * (`NoCertificateRef`); the first reference is not a core `Secret` (`CertificateRefNotSecret`),
 * names another namespace (`CertificateRefOtherNamespace`: the job writes Secrets only where the
 * requester is) or no valid name (`NoSecretName`, `InvalidSecretName`). Only the first
 * reference is managed: further ones (say, an ECDSA beside an RSA certificate) are the user's.
 *
 * Its challenges are routed by an HTTPRoute in LEGO_NAMESPACE (docs/routing.md) attached to the
 * Gateway's HTTP listeners that the ACME server reaches — protocol `HTTP`, port
 * `settings.gatewayHttpPort` (80, RFC 8555 §8.3) — whose hostname is absent or matches the host
 * (a `*.` hostname matches every name under it), and that admit an HTTPRoute from
 * LEGO_NAMESPACE: `allowedRoutes.namespaces.from` `All`, `Same` (the default) when the Gateway
 * is in LEGO_NAMESPACE, or `Selector` (the job cannot read LEGO_NAMESPACE's labels and assumes
 * the selector admits it), and `allowedRoutes.kinds` empty or naming HTTPRoute. With no such
 * listener the entry is invalid (`NoChallengeListener`). No ReferenceGrant is ever needed: the
 * route's parent is governed by `allowedRoutes`, and its backend, the responder Service, is in
 * the route's own namespace.
 *
 * Pure; the result does not depend on anything but its arguments. Never throws.
 */
export function collectGatewayEntries(
  gateways: readonly GatewayView[],
  settings: GatewayListenerSettings,
): GatewayEntries {
  const entries: WantedEntry[] = [];
  const invalid: InvalidEntry[] = [];
  const skipped: SkippedIngress[] = [];
  for (const gateway of gateways) {
    const value = gateway.annotations[settings.kubeAnnotation];
    if (value === undefined) continue;
    const certificateListeners = gateway.listeners
      .map((listener, index) => ({ listener, index }))
      .filter(({ listener }) => isCertificateListener(listener));
    if (value.toLowerCase() !== 'true') {
      if (certificateListeners.length > 0) {
        skipped.push(
          skip(
            gateway,
            'AnnotationNotTrue',
            `The ${settings.kubeAnnotation} annotation is ${JSON.stringify(value.slice(0, 50))}, not "true": the Gateway is not managed. Set it to "true" to get certificates for its HTTPS listeners.`,
          ),
        );
      }
      continue;
    }
    if (
      settings.supportedGatewayClass.length > 0 &&
      !settings.supportedGatewayClass.includes(gateway.gatewayClassName)
    ) {
      skipped.push(
        skip(
          gateway,
          'UnsupportedGatewayClass',
          `Gateway class "${gateway.gatewayClassName}" is not managed here; LEGO_SUPPORTED_GATEWAY_CLASS is ${settings.supportedGatewayClass.join(', ')}.`,
        ),
      );
      continue;
    }
    if (certificateListeners.length === 0) {
      skipped.push(
        skip(
          gateway,
          'NoTlsEntries',
          `The Gateway has the ${settings.kubeAnnotation} annotation but no HTTPS listener (or TLS listener in Terminate mode); add one with a hostname and a certificateRefs entry.`,
        ),
      );
      continue;
    }
    for (const { listener, index } of certificateListeners) {
      const outcome = decideListener(gateway, listener, index, settings);
      if ('reason' in outcome) invalid.push(outcome);
      else entries.push(outcome);
    }
  }
  return { entries, invalid, skipped };
}

type Listener = GatewayView['listeners'][number];

function decideListener(
  gateway: GatewayView,
  listener: Listener,
  index: number,
  settings: GatewayListenerSettings,
): WantedEntry | InvalidEntry {
  const ref: EntryRef = {
    kind: 'Gateway',
    namespace: gateway.namespace,
    name: gateway.name,
    uid: gateway.uid,
    index,
    listener: listenerName(listener, index),
  };
  const tls = record(listener.tls);
  const certificateRef = Array.isArray(tls.certificateRefs)
    ? record(tls.certificateRefs[0] as unknown)
    : undefined;
  const shownSecret = typeof certificateRef?.name === 'string' ? certificateRef.name : undefined;
  const reject = (reason: InvalidEntry['reason'], message: string): InvalidEntry => ({
    ref,
    secretName: shownSecret,
    reason,
    message,
  });
  const where = `Listener "${ref.listener}"`;
  if (typeof listener.hostname !== 'string' || listener.hostname.trim() === '') {
    return reject(
      'ListenerWithoutHostname' satisfies ListenerRejectionReason,
      `${where} has no hostname: the job does not take names from the routes attached to it. Set spec.listeners[${index}].hostname to the name the certificate must cover.`,
    );
  }
  // The Gateway API refuses IP addresses as listener hostnames; a listener matches by name only.
  const hosts = normalizeHosts([listener.hostname], {
    ipAddresses: false,
    ipAddressHint: 'a Gateway listener hostname must be a DNS name (Gateway API).',
  });
  if (!hosts.ok) return reject(hosts.reason, `${where}: ${hosts.message}`);
  if (certificateRef === undefined) {
    return reject(
      'NoCertificateRef',
      `${where} has no tls.certificateRefs; name the Secret (in namespace ${gateway.namespace}) the certificate is to be stored in.`,
    );
  }
  const group = certificateRef.group ?? '';
  const kind = certificateRef.kind ?? 'Secret';
  if (group !== '' || kind !== 'Secret') {
    return reject(
      'CertificateRefNotSecret',
      `${where} refers to kind ${JSON.stringify(kind)} of group ${JSON.stringify(group)}: the job stores certificates in core Secrets only (group "", kind Secret).`,
    );
  }
  if (
    certificateRef.namespace !== undefined &&
    certificateRef.namespace !== '' &&
    certificateRef.namespace !== gateway.namespace
  ) {
    return reject(
      'CertificateRefOtherNamespace',
      `${where} refers to a Secret in namespace ${JSON.stringify(certificateRef.namespace)}: the job writes a Gateway's certificates only into its own namespace ${gateway.namespace}; name a Secret there.`,
    );
  }
  const secretName = readSecretName(certificateRef.name);
  if (!secretName.ok) {
    return { ref, secretName: secretName.shown, ...secretName.violation };
  }
  const host = hosts.hosts[0] ?? '';
  const httpListeners = challengeListeners(gateway, host, settings);
  if (httpListeners.length === 0) {
    return reject(
      'NoChallengeListener',
      `Gateway ${gateway.namespace}/${gateway.name} has no HTTP listener on port ${settings.gatewayHttpPort} for ${host} that accepts an HTTPRoute from namespace ${settings.namespace}, so the ACME server's HTTP-01 request cannot reach the responder. Add a listener of protocol HTTP, port ${settings.gatewayHttpPort}, no hostname or one matching ${host}, whose allowedRoutes admit HTTPRoutes from ${settings.namespace} (namespaces.from: All, or Selector).`,
    );
  }
  return {
    ref,
    secretName: secretName.name,
    hosts: hosts.hosts,
    commonName: hosts.commonName,
    ingressClass: gateway.gatewayClassName,
    provider: 'gateway',
    httpListeners,
  };
}

/** HTTPS, or TLS terminated at the Gateway (`tls.mode` defaults to Terminate). */
function isCertificateListener(listener: Listener): boolean {
  if (listener.protocol === 'HTTPS') return true;
  if (listener.protocol !== 'TLS') return false;
  const mode = record(listener.tls).mode;
  return mode === undefined || mode === 'Terminate';
}

/** The HTTP listeners through which the ACME server's request for `host` reaches our route. */
function challengeListeners(
  gateway: GatewayView,
  host: string,
  settings: GatewayListenerSettings,
): ListenerRef[] {
  const found: ListenerRef[] = [];
  for (const [index, listener] of gateway.listeners.entries()) {
    if (listener.protocol !== 'HTTP' || listener.port !== settings.gatewayHttpPort) continue;
    if (!hostnameMatches(listener.hostname, host)) continue;
    if (!admitsChallengeRoute(gateway, listener, settings.namespace)) continue;
    found.push({
      namespace: gateway.namespace,
      name: gateway.name,
      listener: listenerName(listener, index),
    });
  }
  return found;
}

/**
 * Gateway API's listener hostname rule: absent matches every host; `*.example.com` matches
 * every name that ends in `.example.com` (one label or more), not `example.com` itself.
 */
export function hostnameMatches(hostname: unknown, host: string): boolean {
  if (hostname === undefined || hostname === null || hostname === '') return true;
  if (typeof hostname !== 'string') return false;
  const pattern = hostname.trim().toLowerCase().replace(/\.$/, '');
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

function admitsChallengeRoute(
  gateway: GatewayView,
  listener: Listener,
  legoNamespace: string,
): boolean {
  const allowed = record(listener.allowedRoutes);
  const from = record(allowed.namespaces).from ?? 'Same';
  const namespaceAdmitted =
    from === 'All' ||
    from === 'Selector' ||
    (from === 'Same' && gateway.namespace === legoNamespace);
  if (!namespaceAdmitted) return false;
  const kinds = Array.isArray(allowed.kinds) ? (allowed.kinds as unknown[]) : [];
  return (
    kinds.length === 0 ||
    kinds.some((raw) => {
      const kind = record(raw);
      return kind.kind === 'HTTPRoute' && (kind.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP;
    })
  );
}

function listenerName(listener: Listener, index: number): string {
  return typeof listener.name === 'string' && listener.name !== ''
    ? listener.name
    : `listeners[${index}]`;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function skip(
  gateway: GatewayView,
  reason: SkippedIngress['reason'],
  message: string,
): SkippedIngress {
  return { kind: 'Gateway', namespace: gateway.namespace, name: gateway.name, reason, message };
}
