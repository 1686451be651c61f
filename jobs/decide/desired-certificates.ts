/**
 * From annotated Ingresses to the certificates the job must keep valid: one per
 * (namespace, secretName), with every TLS entry that cannot be served reported, not dropped.
 */
import type { JobSettings } from '../config.js';
import type {
  DesiredCertificate,
  EntryRef,
  GatewayView,
  IngressView,
  InvalidEntry,
  ListenerRef,
  RequesterKind,
  SkippedIngress,
} from '../model.js';
import { collectGatewayEntries, type GatewayListenerSettings } from './gateway-listeners.js';
import { normalizeHosts, type HostOptions } from './hosts.js';
import {
  ipCertificatesAllowed,
  ipCertificatesHint,
  type IpCertificateSettings,
} from './ip-certificates.js';
import type { SkipReason } from './reasons.js';
import { readSecretName } from './secret-name.js';
import type { WantedEntry } from './wanted-entry.js';
import { resolveIngressClass, type IngressClassSettings } from './ingress-class.js';

/** The settings {@link collectCertificates} reads. */
export type CollectSettings = IngressClassSettings &
  Pick<JobSettings, 'kubeAnnotation'> &
  GatewayListenerSettings &
  IpCertificateSettings;

/** The outcome of {@link collectCertificates}; every array is in a deterministic order. */
export interface CollectedCertificates {
  /** Sorted by namespace, then Secret name. */
  certificates: DesiredCertificate[];
  /** Sorted by namespace, Ingress name, then TLS entry index. */
  invalid: InvalidEntry[];
  /** Sorted by namespace, then Ingress name. */
  skipped: SkippedIngress[];
}

/** One valid TLS entry before grouping. */
type Candidate = WantedEntry;

/**
 * Decides which certificates the annotated Ingresses ask for.
 *
 * Only Ingresses whose annotation `settings.kubeAnnotation` is `"true"`, compared without
 * regard to case, are considered: kube-lego lower-cased the value before comparing it
 * (`strings.ToLower(val) != "true"` in its pkg/ingress), so an Ingress it managed with `"True"`
 * stays managed. Without the annotation an Ingress is ignored silently; with another value
 * (`"yes"`, `"1"`, `"false"`) and TLS entries it is returned in `skipped` (`AnnotationNotTrue`). An annotated Ingress
 * whose class or provider is not supported, or that has no `spec.tls`, is returned in `skipped`
 * (`UnsupportedIngressClass`, `UnsupportedIngressProvider`, `NoTlsEntries`).
 *
 * Each TLS entry needs a `secretName` that is a Kubernetes object name (`NoSecretName`,
 * `InvalidSecretName`) and valid hosts (see {@link normalizeHosts}; IP addresses only when
 * {@link ipCertificatesAllowed}); otherwise it is returned in
 * `invalid`. Valid entries are grouped by (namespace, secretName): entries with the same host
 * set (compared as sets) share one {@link DesiredCertificate} that lists every entry; if the
 * entries of a group ask for different host sets, every entry of the group is invalid
 * (`SecretNameConflict`) and no certificate is made for it — one Secret cannot hold two
 * certificates, and picking one would break the other Ingress. Invalid entries take no part in
 * grouping. Within a group the first entry (by namespace, Ingress name, index) provides the
 * Common Name, the class and the provider.
 *
 * The listeners of annotated `gateways` are entries too (gateway-listeners.ts), grouped with the
 * Ingresses' by the same rule (Ingresses sort before Gateways); a certificate routed through a
 * Gateway lists every HTTP listener its entries found.
 *
 * The result does not depend on the order of `ingresses` or `gateways`. Never throws.
 */
export function collectCertificates(
  ingresses: readonly IngressView[],
  settings: CollectSettings,
  gateways: readonly GatewayView[] = [],
): CollectedCertificates {
  const fromGateways = collectGatewayEntries(gateways, settings);
  const hostOptions: HostOptions = {
    ipAddresses: ipCertificatesAllowed(settings),
    ipAddressHint: ipCertificatesHint(settings),
  };
  const candidates: Candidate[] = [...fromGateways.entries];
  const invalid: InvalidEntry[] = [...fromGateways.invalid];
  const skipped: SkippedIngress[] = [...fromGateways.skipped];

  for (const ingress of ingresses) {
    const value = ingress.annotations[settings.kubeAnnotation];
    if (value === undefined) continue;
    if (value.toLowerCase() !== 'true') {
      // Not managed; but a value such as "yes" or "1" on an Ingress that has TLS entries is
      // most likely meant as "true": `plan` and the run's log say why it is left alone.
      if (ingress.tls.length > 0) {
        skipped.push(
          skip(
            ingress,
            'AnnotationNotTrue',
            `The ${settings.kubeAnnotation} annotation is ${JSON.stringify(value.slice(0, 50))}, not "true": the Ingress is not managed. Set it to "true" to get certificates for its TLS entries.`,
          ),
        );
      }
      continue;
    }
    const resolved = resolveIngressClass(ingress, settings);
    if (!resolved.ok) {
      skipped.push(skip(ingress, resolved.reason, resolved.message));
      continue;
    }
    if (ingress.tls.length === 0) {
      skipped.push(
        skip(
          ingress,
          'NoTlsEntries',
          `The Ingress has the ${settings.kubeAnnotation} annotation but no spec.tls entries; add one with hosts and a secretName.`,
        ),
      );
      continue;
    }
    for (const [index, entry] of ingress.tls.entries()) {
      const ref: EntryRef = {
        kind: 'Ingress',
        namespace: ingress.namespace,
        name: ingress.name,
        uid: ingress.uid,
        index,
      };
      const secretName = readSecretName(entry.secretName);
      if (!secretName.ok) {
        invalid.push({ ref, secretName: secretName.shown, ...secretName.violation });
        continue;
      }
      const hosts = normalizeHosts(entry.hosts, hostOptions);
      if (!hosts.ok) {
        invalid.push({
          ref,
          secretName: secretName.name,
          reason: hosts.reason,
          message: hosts.message,
        });
        continue;
      }
      candidates.push({
        ref,
        secretName: secretName.name,
        hosts: hosts.hosts,
        commonName: hosts.commonName,
        ingressClass: resolved.ingressClass,
        provider: resolved.provider,
        httpListeners: [],
      });
    }
  }

  const certificates: DesiredCertificate[] = [];
  for (const group of groupBySecret(candidates)) {
    const [first] = group;
    if (first === undefined) continue;
    const hosts = [...first.hosts].sort();
    if (group.some((candidate) => !sameHostSet(candidate.hosts, hosts))) {
      for (const candidate of group) invalid.push(conflict(candidate, group));
      continue;
    }
    certificates.push({
      namespace: first.ref.namespace,
      secretName: first.secretName,
      hosts,
      commonName: first.commonName,
      requesters: group.map((candidate) => candidate.ref),
      ingressClass: first.ingressClass,
      provider: first.provider,
      ...(first.provider === 'gateway'
        ? { httpListeners: uniqueListeners(group.flatMap((c) => c.httpListeners)) }
        : {}),
    });
  }

  invalid.sort((a, b) => compareRefs(a.ref, b.ref));
  skipped.sort(
    (a, b) =>
      compareText(a.kind ?? 'Ingress', b.kind ?? 'Ingress') ||
      compareText(a.namespace, b.namespace) ||
      compareText(a.name, b.name),
  );
  return { certificates, invalid, skipped };
}

/** Groups candidates by (namespace, secretName), groups and members in a stable order. */
function groupBySecret(candidates: readonly Candidate[]): Candidate[][] {
  const sorted = [...candidates].sort(
    (a, b) =>
      compareText(a.ref.namespace, b.ref.namespace) ||
      compareText(a.secretName, b.secretName) ||
      compareRefs(a.ref, b.ref),
  );
  const groups: Candidate[][] = [];
  let current: Candidate[] = [];
  for (const candidate of sorted) {
    const head = current[0];
    if (
      head !== undefined &&
      (head.ref.namespace !== candidate.ref.namespace || head.secretName !== candidate.secretName)
    ) {
      groups.push(current);
      current = [];
    }
    current.push(candidate);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function conflict(candidate: Candidate, group: readonly Candidate[]): InvalidEntry {
  const others = group
    .filter((other) => other !== candidate)
    .map((other) => `${describeRef(other.ref)} (hosts ${other.hosts.join(', ')})`);
  return {
    ref: candidate.ref,
    secretName: candidate.secretName,
    reason: 'SecretNameConflict',
    message: `Secret ${candidate.ref.namespace}/${candidate.secretName} is also wanted by ${others.join('; ')} with a different set of hosts than this entry's ${candidate.hosts.join(', ')}; TLS entries that share a Secret must list the same hosts. No certificate is issued for any of them until they agree.`,
  };
}

function skip(ingress: IngressView, reason: SkipReason, message: string): SkippedIngress {
  return { namespace: ingress.namespace, name: ingress.name, reason, message };
}

function sameHostSet(hosts: readonly string[], sorted: readonly string[]): boolean {
  const own = [...hosts].sort();
  return own.length === sorted.length && own.every((host, i) => host === sorted[i]);
}

function describeRef(ref: EntryRef): string {
  return ref.kind === 'Gateway'
    ? `Gateway ${ref.namespace}/${ref.name} listener "${ref.listener ?? ref.index}"`
    : `Ingress ${ref.namespace}/${ref.name} spec.tls[${ref.index}]`;
}

/** Ingresses first (their order is the one earlier versions gave), then Gateways. */
const KIND_ORDER: Record<RequesterKind, number> = { Ingress: 0, Gateway: 1 };

function compareRefs(a: EntryRef, b: EntryRef): number {
  return (
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    compareText(a.namespace, b.namespace) ||
    compareText(a.name, b.name) ||
    a.index - b.index
  );
}

/** Listeners de-duplicated, sorted by Gateway namespace, name, then listener name. */
function uniqueListeners(listeners: readonly ListenerRef[]): ListenerRef[] {
  const byKey = new Map(listeners.map((l) => [`${l.namespace}/${l.name}/${l.listener}`, l]));
  return [...byKey.values()].sort(
    (a, b) =>
      compareText(a.namespace, b.namespace) ||
      compareText(a.name, b.name) ||
      compareText(a.listener, b.listener),
  );
}

/** Code-unit order: names are ASCII, and the result must not depend on the locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
