/**
 * The nginx router: one challenge Ingress, LEGO_INGRESS_NAME_NGINX in LEGO_NAMESPACE, whose rules
 * send http://<host>/.well-known/acme-challenge/ for the hosts under validation to the responder
 * Service. ingress-nginx merges the locations of every Ingress of its class per host, so this
 * Ingress adds the challenge path next to the user's own routes without touching them.
 */
import type { V1Ingress } from '@kubernetes/client-node';
import { CHALLENGE_PATH_PREFIX } from '../../shared/challenge-entries.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { INGRESSES } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import type { DesiredCertificate } from '../model.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeRouter } from './challenge-router.js';
import { INGRESS_KIND, OwnedObjects, type DeleteOutcome } from './owned-objects.js';
import type { ResponderService } from './responder-service.js';
import { RoutingError } from './routing-error.js';
import { routingLabels } from './routing-labels.js';
import { serverSideApply } from '../kube/server-side-apply.js';
import { ruleHosts } from './rule-host.js';

/**
 * Path of the challenge route: RFC 8555 §8.3 puts every token under this prefix. `Prefix`
 * matching is per path element, so it matches /.well-known/acme-challenge/<token>.
 */
export const NGINX_CHALLENGE_PATH = CHALLENGE_PATH_PREFIX;

/** The annotation older controllers read the class from (before spec.ingressClassName). */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/**
 * Traefik's router priority for the challenge paths. Traefik picks, among the routers matching a
 * request, the one of highest priority, by default the length of its rule, which the challenge
 * path already wins against a user's `/`; but a user may give their own routers a priority
 * (annotation `traefik.ingress.kubernetes.io/router.priority`). This is the highest priority
 * Traefik accepts from a user router on 32-bit builds (MaxInt32 - 1000; higher is reserved for
 * its internal routers and refused), so the challenge path wins against any user router.
 */
export const TRAEFIK_CHALLENGE_PRIORITY = 2_147_482_647;

/** What the challenge Ingress needs to know. */
export interface NginxIngressSettings {
  namespace: string;
  port: number;
  serviceNameNginx: string;
  ingressNameNginx: string;
}

/**
 * Builds the challenge Ingress for `hosts` in `ingressClass`, as it is applied: one rule per DNS
 * name, and one rule without host for the IP addresses among them (jobs/routing/rule-host.ts).
 */
export function buildNginxIngress(
  settings: NginxIngressSettings,
  hosts: readonly string[],
  ingressClass: string,
): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: settings.ingressNameNginx,
      namespace: settings.namespace,
      labels: routingLabels('ingress'),
      annotations: {
        // The same class as the user's Ingress, both ways: controllers older than
        // spec.ingressClassName read only the annotation (the apiserver accepts both when equal).
        [INGRESS_CLASS_ANNOTATION]: ingressClass,
        // The user's Ingress usually forces HTTPS for its hosts; the ACME server validates over
        // plain HTTP on port 80 (RFC 8555 §8.3), so this Ingress's locations must not redirect.
        'nginx.ingress.kubernetes.io/ssl-redirect': 'false',
        // Traefik: a user router with a priority of its own must not capture the challenge path.
        // Middlewares (e.g. a redirect to HTTPS) are per router: the user's don't apply here.
        'traefik.ingress.kubernetes.io/router.priority': String(TRAEFIK_CHALLENGE_PRIORITY),
      },
    },
    spec: {
      ingressClassName: ingressClass,
      rules: ruleHosts(hosts).map((host) => ({
        ...(host === undefined ? {} : { host }),
        http: {
          paths: [
            {
              path: NGINX_CHALLENGE_PATH,
              pathType: 'Prefix',
              backend: {
                service: { name: settings.serviceNameNginx, port: { number: settings.port } },
              },
            },
          ],
        },
      })),
    },
  };
}

/**
 * {@link ChallengeRouter} of the `ingress` provider (kube-lego's `nginx`): any controller that
 * merges Ingresses per host (Traefik, HAProxy, NGINX Inc's, Cilium, ingress-nginx…).
 */
export class NginxChallengeRouter implements ChallengeRouter {
  private readonly ingresses: OwnedObjects;

  constructor(
    private readonly kube: KubeHttp,
    private readonly responder: ResponderService,
    private readonly settings: NginxIngressSettings,
    private readonly logger: Logger,
  ) {
    this.ingresses = new OwnedObjects(kube, INGRESS_KIND, routingLabels('ingress'));
  }

  private get ingressReference(): string {
    return `${this.settings.namespace}/${this.settings.ingressNameNginx}`;
  }

  /**
   * Ensures the responder Service (once per run) and applies the challenge Ingress with exactly
   * this certificate's hosts and class, replacing the rules of the previous certificate: the job
   * validates one certificate at a time. One request after the first call of a run; an unchanged
   * apply leaves the resourceVersion as it was.
   * @throws RoutingError naming the object that could not be written.
   */
  async open(certificate: DesiredCertificate): Promise<void> {
    const log = this.logger.child({
      namespace: certificate.namespace,
      secret: certificate.secretName,
    });
    if (certificate.hosts.length === 0) {
      throw new RoutingError('ingress', `${describe(certificate)} has no hosts to route`);
    }
    try {
      await this.responder.ensure();
    } catch (error) {
      throw new RoutingError(
        'ingress',
        `cannot ensure responder Service ${this.responder.reference}`,
        {
          cause: error,
        },
      );
    }
    const body = buildNginxIngress(this.settings, certificate.hosts, certificate.ingressClass);
    try {
      const applied = await serverSideApply<Wire<V1Ingress>>(
        this.kube,
        `apply Ingress ${this.ingressReference}`,
        {
          type: INGRESSES,
          namespace: this.settings.namespace,
          name: this.settings.ingressNameNginx,
          body,
        },
      );
      this.ingresses.record(applied, 'written');
    } catch (error) {
      throw new RoutingError(
        'ingress',
        `cannot apply challenge Ingress ${this.ingressReference} for ${describe(certificate)}`,
        { cause: error },
      );
    }
    log.debug('challenge ingress applied', {
      ingress: this.ingressReference,
      hosts: certificate.hosts,
      ingressClass: certificate.ingressClass,
    });
  }

  /**
   * Deletes the challenge Ingress, by name and only if it carries our labels: one request when
   * this run applied it and nobody replaced it since (else a GET first; nothing to delete is
   * fine). Deleted rather than emptied: the apiserver refuses an Ingress with neither rules nor a
   * default backend, and a default backend would capture the whole class's unmatched traffic.
   * @throws RoutingError when the read or the delete fails.
   */
  async close(certificate: DesiredCertificate): Promise<void> {
    let outcome: DeleteOutcome;
    try {
      outcome = await this.deleteChallengeIngress();
    } catch (error) {
      throw new RoutingError(
        'ingress',
        `cannot delete challenge Ingress ${this.ingressReference} after ${describe(certificate)}`,
        { cause: error },
      );
    }
    this.logger.debug('challenge ingress removed', {
      ingress: this.ingressReference,
      outcome,
      namespace: certificate.namespace,
      secret: certificate.secretName,
    });
  }

  /**
   * End of run: deletes the challenge Ingress and the responder Service by name, each only if it
   * carries nginx routing's labels (a crashed run's leftovers included; an unlabelled object of
   * that name, e.g. kube-lego's, is left alone). No request for what this run already deleted;
   * a GET first for what it did not write (the Service's delete is skipped when the gce router's
   * cleanup already made it). Objects left under an earlier LEGO_INGRESS_NAME_NGINX or
   * LEGO_SERVICE_NAME_NGINX are not touched: RBAC allows deleting the current names only.
   * @throws RoutingError when a delete fails (the other is still attempted).
   */
  async cleanup(): Promise<void> {
    const failures: unknown[] = [];
    await this.deleteChallengeIngress().catch((error: unknown) => failures.push(error));
    await this.responder.remove().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) {
      throw new RoutingError('ingress', `cleanup failed in namespace ${this.settings.namespace}`, {
        cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
      });
    }
  }

  private deleteChallengeIngress(): Promise<DeleteOutcome> {
    return this.ingresses.delete({
      namespace: this.settings.namespace,
      name: this.settings.ingressNameNginx,
    });
  }
}

function describe(certificate: DesiredCertificate): string {
  return `certificate ${certificate.namespace}/${certificate.secretName}`;
}
