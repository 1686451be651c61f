/**
 * The challenge paths the gce router adds to a user's Ingress rules, and their removal. Pure:
 * the functions take rules and return new rules (or `undefined` when nothing changes, so the
 * caller skips the write).
 *
 * GCE's load balancer has no notion of several Ingresses sharing a host: each Ingress is its own
 * load balancer with its own address, the one the user's DNS points at. So the challenge path
 * must live in the user's Ingress itself, for each host of the certificate.
 *
 * Removal is exact without remembering anything: a path is ours when it has our path and our
 * Service as backend; a rule is ours when removing our paths leaves it with none (the apiserver
 * refuses a rule with `http` but no paths, so a user's rule always keeps one of its own).
 * We never add to a user's host-only rule (no `http`): we add a rule of our own for that host,
 * which GCE merges with the other rules of the host.
 */
import type { V1HTTPIngressPath, V1IngressRule } from '@kubernetes/client-node';
import { CHALLENGE_PATH_PREFIX } from '../../shared/challenge-entries.js';
import { ruleHosts } from './rule-host.js';

/**
 * The challenge path on GCE. With `pathType: ImplementationSpecific` the path is in GCE's own URL
 * map syntax, where a trailing `/*` matches everything under the prefix (every token).
 */
export const GCE_CHALLENGE_PATH = `${CHALLENGE_PATH_PREFIX}*`;

/** Where the challenge paths send traffic: the gce Service in the Ingress's namespace. */
export interface ChallengeBackend {
  serviceName: string;
  port: number;
}

/** Builds the path entry added to a rule. */
export function buildChallengePath(backend: ChallengeBackend): V1HTTPIngressPath {
  return {
    path: GCE_CHALLENGE_PATH,
    pathType: 'ImplementationSpecific',
    backend: { service: { name: backend.serviceName, port: { number: backend.port } } },
  };
}

/** Whether `path` is one the gce router adds, to a Service named in `serviceNames`. */
export function isChallengePath(path: V1HTTPIngressPath, serviceNames: readonly string[]): boolean {
  const service = path.backend.service?.name;
  return (
    path.path === GCE_CHALLENGE_PATH && service !== undefined && serviceNames.includes(service)
  );
}

/**
 * Rules with the challenge path for each of `hosts`: appended to the first rule of the host that
 * has `http`, or in a new rule for the host; for IP addresses, the rule without host
 * (jobs/routing/rule-host.ts). An existing challenge path of ours is kept when it
 * is exactly as built, replaced otherwise (e.g. LEGO_PORT changed).
 * Returns `undefined` when `rules` already route every host.
 */
export function addChallengePaths(
  rules: readonly V1IngressRule[],
  hosts: readonly string[],
  backend: ChallengeBackend,
): V1IngressRule[] | undefined {
  const wanted = buildChallengePath(backend);
  const next = rules.map((rule) =>
    rule.http ? { ...rule, http: { ...rule.http, paths: [...rule.http.paths] } } : rule,
  );
  let changed = false;
  for (const host of ruleHosts(hosts)) {
    const rule = next.find((candidate) => (candidate.host || undefined) === host && candidate.http);
    if (!rule?.http) {
      next.push({
        ...(host === undefined ? {} : { host }),
        http: { paths: [buildChallengePath(backend)] },
      });
      changed = true;
      continue;
    }
    const paths = rule.http.paths;
    const index = paths.findIndex((path) => isChallengePath(path, [backend.serviceName]));
    if (index === -1) {
      paths.push(buildChallengePath(backend));
      changed = true;
    } else if (!samePath(paths[index], wanted)) {
      paths[index] = buildChallengePath(backend);
      changed = true;
    }
  }
  return changed ? next : undefined;
}

/**
 * Rules without any challenge path to a Service named in `serviceNames` (the current
 * LEGO_SERVICE_NAME_GCE, or every gce Service of ours found by cleanup), and without the rules
 * that held nothing else. Returns `undefined` when there is none.
 */
export function removeChallengePaths(
  rules: readonly V1IngressRule[],
  serviceNames: readonly string[],
): V1IngressRule[] | undefined {
  let changed = false;
  const next: V1IngressRule[] = [];
  for (const rule of rules) {
    const paths = rule.http?.paths ?? [];
    const kept = paths.filter((path) => !isChallengePath(path, serviceNames));
    if (!rule.http || kept.length === paths.length) {
      next.push(rule);
      continue;
    }
    changed = true;
    if (kept.length > 0) next.push({ ...rule, http: { ...rule.http, paths: kept } });
  }
  return changed ? next : undefined;
}

/** Whether any rule holds a challenge path to a Service named in `serviceNames`. */
export function hasChallengePaths(
  rules: readonly V1IngressRule[],
  serviceNames: readonly string[],
): boolean {
  return rules.some((rule) => rule.http?.paths.some((path) => isChallengePath(path, serviceNames)));
}

function samePath(actual: V1HTTPIngressPath | undefined, wanted: V1HTTPIngressPath): boolean {
  return (
    actual?.pathType === wanted.pathType &&
    actual.backend.service?.port?.number === wanted.backend.service?.port?.number &&
    actual.backend.service?.port?.name === undefined &&
    actual.backend.resource === undefined
  );
}
