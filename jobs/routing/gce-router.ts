/**
 * The gce router. GCE gives every Ingress its own load balancer, so the challenge path goes into
 * the user's own Ingress(es) while the order runs: for each host, `/.well-known/acme-challenge/*`
 * to the gce backend (a selectorless NodePort Service in the Ingress's namespace whose
 * EndpointSlices mirror the responder's ready addresses; see gce-backend.ts).
 *
 * Order matters for crash safety: open() writes the backend before the paths, close() removes
 * the paths before the backend. So a user's Ingress holding our paths implies our gce Service
 * still exists in its namespace, and cleanup() finds every leftover from that Service alone,
 * with one list request when there is none.
 */
import type { V1Ingress } from '@kubernetes/client-node';
import type { DesiredCertificate } from '../model.js';
import { describeError } from '../../shared/errors.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { INGRESSES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeRouter } from './challenge-router.js';
import {
  addChallengePaths,
  hasChallengePaths,
  removeChallengePaths,
} from './gce-challenge-paths.js';
import type { GceBackend } from './gce-backend.js';
import { kubeCall } from '../kube/kube-call.js';
import type { ResponderService } from './responder-service.js';
import { RoutingError } from './routing-error.js';
import { editIngressRules } from './user-ingress.js';

/** What the gce router needs to know. */
export interface GceRouterSettings {
  port: number;
  serviceNameGce: string;
  /** Where cleanup() looks for leftovers; empty means every namespace. */
  watchNamespace: string;
}

interface IngressTarget {
  namespace: string;
  name: string;
}

/** {@link ChallengeRouter} for GCE's Ingress controller (ingress-gce). */
export class GceChallengeRouter implements ChallengeRouter {
  /** Namespaces with routes of each certificate opened and not yet closed, by certificate. */
  private readonly active = new Map<string, string[]>();

  constructor(
    private readonly kube: KubeHttp,
    private readonly responder: ResponderService,
    private readonly backend: GceBackend,
    private readonly settings: GceRouterSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * Makes the challenge path of every host reach the responder through each Ingress of the
   * certificate: ensures the responder Service (once per run), reads its ready addresses,
   * applies the gce backend, then adds the paths to each Ingress (a fresh read and a
   * resourceVersion-checked patch, retried on 409 Conflict). Calling it again changes nothing.
   * When it fails after writing anything, it undoes what it wrote (as close() does) before
   * throwing.
   * @throws RoutingError when no responder pod is ready (nothing is written then), an Ingress of
   *   the certificate no longer exists, or a request fails.
   */
  async open(certificate: DesiredCertificate): Promise<void> {
    const log = this.logger.child({
      namespace: certificate.namespace,
      secret: certificate.secretName,
    });
    const targets = targetsOf(certificate);
    if (certificate.hosts.length === 0 || targets.length === 0) {
      throw new RoutingError('gce', `${describe(certificate)} has no hosts or no Ingress to route`);
    }
    await step(`cannot ensure responder Service ${this.responder.reference}`, () =>
      this.responder.ensure(),
    );
    const ready = await step(
      `cannot read the endpoints of responder Service ${this.responder.reference}`,
      () => this.responder.listReadyAddresses(),
    );
    if (ready.length === 0) {
      throw new RoutingError(
        'gce',
        `no ready responder pod behind service ${this.responder.reference}: cannot route ${describe(certificate)} (is the responder Deployment running and ready?)`,
      );
    }
    const namespaces = [...new Set(targets.map((target) => target.namespace))];
    this.active.set(keyOf(certificate), namespaces);
    try {
      for (const namespace of namespaces) {
        await step(`cannot apply the gce Service and EndpointSlices in ${namespace}`, () =>
          this.backend.ensure(namespace, ready),
        );
      }
      const backend = { serviceName: this.settings.serviceNameGce, port: this.settings.port };
      for (const target of targets) {
        const reference = `${target.namespace}/${target.name}`;
        const outcome = await step(`cannot add challenge paths to Ingress ${reference}`, () =>
          editIngressRules(
            this.kube,
            target,
            (rules) => addChallengePaths(rules, certificate.hosts, backend),
            log,
          ),
        );
        if (outcome === 'absent') {
          throw new RoutingError(
            'gce',
            `Ingress ${reference} of ${describe(certificate)} no longer exists`,
          );
        }
        log.debug('challenge paths in ingress', {
          ingress: reference,
          outcome,
          hosts: certificate.hosts,
        });
      }
    } catch (error) {
      await this.close(certificate).catch((undoError: unknown) => {
        log.warn('could not undo partial challenge routing; cleanup() will retry', {
          error: describeError(undoError),
        });
      });
      throw error;
    }
  }

  /**
   * Removes from each Ingress of the certificate exactly the challenge paths (and the rules
   * holding nothing else) that open() added, leaving the rest of the Ingress as it was; then
   * deletes the gce backend of each namespace where no other certificate is open. Absent
   * Ingresses and objects are fine. When a path cannot be removed, the backend is kept so that
   * cleanup() finds the Ingress again.
   * @throws RoutingError naming the Ingress or namespace that failed (every one is attempted).
   */
  async close(certificate: DesiredCertificate): Promise<void> {
    const failures: RoutingError[] = [];
    const serviceName = this.settings.serviceNameGce;
    for (const target of targetsOf(certificate)) {
      const reference = `${target.namespace}/${target.name}`;
      try {
        const outcome = await editIngressRules(
          this.kube,
          target,
          (rules) => removeChallengePaths(rules, [serviceName]),
          this.logger,
        );
        this.logger.debug('challenge paths removed', { ingress: reference, outcome });
      } catch (error) {
        failures.push(
          new RoutingError('gce', `cannot remove challenge paths from Ingress ${reference}`, {
            cause: error,
          }),
        );
      }
    }
    const namespaces = [...new Set(targetsOf(certificate).map((target) => target.namespace))];
    this.active.delete(keyOf(certificate));
    if (failures.length === 0) {
      const stillOpen = new Set([...this.active.values()].flat());
      for (const namespace of namespaces.filter((namespace) => !stillOpen.has(namespace))) {
        await this.removeBackend(namespace, failures);
      }
    }
    throwIfAny(failures, `cannot close routing of ${describe(certificate)}`);
  }

  /**
   * End of run: finds every gce Service of ours (one list, in LEGO_WATCH_NAMESPACE or cluster
   * wide), removes the challenge paths to it from every Ingress of its namespace (one list per
   * such namespace, a patch per Ingress that holds any), deletes the namespace's gce
   * EndpointSlices and Service by name (a gce Service of ours under another name than
   * LEGO_SERVICE_NAME_GCE loses its paths but is only reported: RBAC allows deleting the current
   * names only), and deletes the responder Service (skipped when the nginx router's cleanup
   * already did). Leftovers of a crashed run are found the same way: see the module comment.
   * Needs no argument.
   * @throws RoutingError listing what failed (everything is attempted).
   */
  async cleanup(): Promise<void> {
    const failures: RoutingError[] = [];
    let backends: Awaited<ReturnType<GceBackend['list']>> = [];
    try {
      backends = await this.backend.list(this.settings.watchNamespace);
    } catch (error) {
      failures.push(new RoutingError('gce', 'cannot list gce Services', { cause: error }));
    }
    const byNamespace = new Map<string, string[]>();
    for (const { namespace, serviceName } of backends) {
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), serviceName]);
    }
    for (const [namespace, serviceNames] of byNamespace) {
      const before = failures.length;
      await this.removeLeftoverPaths(namespace, serviceNames, failures);
      if (failures.length > before) continue; // keep the Service: it marks the namespace
      for (const serviceName of serviceNames) {
        if (serviceName === this.settings.serviceNameGce) continue;
        // Left under an earlier LEGO_SERVICE_NAME_GCE: its paths are gone, but RBAC lets the
        // job delete the current name only.
        this.logger.warn(
          'a gce Service of ours has another name than LEGO_SERVICE_NAME_GCE and is left in place; delete it and its EndpointSlices by hand',
          { namespace, service: serviceName },
        );
      }
      await this.removeBackend(namespace, failures);
    }
    this.active.clear();
    await this.responder.remove().catch((error: unknown) => {
      failures.push(
        new RoutingError('gce', `cannot delete responder Service ${this.responder.reference}`, {
          cause: error,
        }),
      );
    });
    throwIfAny(failures, 'cleanup failed');
  }

  /** Deletes a namespace's gce Service and EndpointSlices; a failure is collected, not thrown. */
  private async removeBackend(namespace: string, failures: RoutingError[]): Promise<void> {
    try {
      await this.backend.remove(namespace);
    } catch (error) {
      failures.push(
        new RoutingError(
          'gce',
          `cannot delete the gce Service and EndpointSlices in ${namespace}`,
          {
            cause: error,
          },
        ),
      );
    }
  }

  private async removeLeftoverPaths(
    namespace: string,
    serviceNames: readonly string[],
    failures: RoutingError[],
  ): Promise<void> {
    let ingresses: { name: string; ingress: Wire<V1Ingress> }[];
    try {
      // Only the Ingresses holding our paths are kept from each page.
      const holding = await kubeCall(`list Ingresses in ${namespace}`, () =>
        this.kube.list(INGRESSES, namespace, {}, (ingress: Wire<V1Ingress>) => {
          const name = ingress.metadata?.name;
          const rules = ingress.spec?.rules ?? [];
          return name && hasChallengePaths(rules, serviceNames) ? { name, ingress } : undefined;
        }),
      );
      ingresses = holding.filter((entry) => entry !== undefined);
    } catch (error) {
      failures.push(
        new RoutingError('gce', `cannot list Ingresses in ${namespace}`, { cause: error }),
      );
      return;
    }
    for (const { name, ingress } of ingresses) {
      try {
        await editIngressRules(
          this.kube,
          { namespace, name },
          (current) => removeChallengePaths(current, serviceNames),
          this.logger,
          ingress,
        );
        this.logger.info('removed leftover challenge paths', { namespace, ingress: name });
      } catch (error) {
        failures.push(
          new RoutingError(
            'gce',
            `cannot remove leftover challenge paths from Ingress ${namespace}/${name}`,
            {
              cause: error,
            },
          ),
        );
      }
    }
  }
}

/** The distinct Ingresses of a certificate (several TLS entries of one Ingress count once). */
function targetsOf(certificate: DesiredCertificate): IngressTarget[] {
  const seen = new Map<string, IngressTarget>();
  for (const ref of certificate.requesters) {
    if (ref.kind !== 'Ingress') continue;
    seen.set(`${ref.namespace}/${ref.name}`, { namespace: ref.namespace, name: ref.name });
  }
  return [...seen.values()];
}

function keyOf(certificate: DesiredCertificate): string {
  return `${certificate.namespace}/${certificate.secretName}`;
}

function describe(certificate: DesiredCertificate): string {
  return `certificate ${keyOf(certificate)}`;
}

/** Runs one step of open(); a failure becomes a RoutingError with `message` (RoutingErrors pass). */
async function step<T>(message: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RoutingError) throw error;
    throw new RoutingError('gce', message, { cause: error });
  }
}

function throwIfAny(failures: readonly RoutingError[], summary: string): void {
  const [first] = failures;
  if (!first) return;
  if (failures.length === 1) throw first;
  throw new RoutingError(
    'gce',
    `${summary}: ${failures.map((failure) => failure.message).join('; ')}`,
    {
      cause: new AggregateError(failures),
    },
  );
}
