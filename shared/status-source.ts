/**
 * The `source` of a managed certificate — the kind of object that asked for it (`Ingress`,
 * `Gateway`) — as `status` and the responder's metrics show it, read from a status entry's
 * requester names (shared/status-entries.ts `ingresses`): `namespace/name` is an Ingress (the
 * format earlier versions wrote), `Kind:namespace/name` any other kind (jobs/model.ts
 * `requesterName`).
 */

/**
 * The kind of the first requester in `requesters` (the one that decides the certificate's
 * routing; they are written in that order); `Ingress` when there is none. Never throws.
 */
export function statusSource(requesters: readonly string[]): string {
  const first = requesters[0] ?? '';
  return /^([A-Z][A-Za-z]*):/.exec(first)?.[1] ?? 'Ingress';
}
