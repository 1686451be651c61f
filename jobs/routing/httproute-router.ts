/**
 * The gateway router: one challenge HTTPRoute, LEGO_HTTPROUTE_NAME in LEGO_NAMESPACE, attached
 * (`parentRefs`, by listener name) to the Gateway HTTP listeners that reach the hosts under
 * validation, sending `PathPrefix /.well-known/acme-challenge/` for exactly those hosts to the
 * responder Service. Gateway API gives the longest path match precedence among a listener's
 * routes for one host, so the challenge path wins against a user's `/` without touching the
 * user's HTTPRoutes; like the nginx router's Ingress it exists only while an order runs.
 *
 * No ReferenceGrant: the route's attachment to a Gateway of another namespace is governed by the
 * listener's `allowedRoutes` (checked when the certificate is decided, gateway-listeners.ts), and
 * its only backend, the responder Service, is in the route's own namespace.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { CHALLENGE_PATH_PREFIX } from '../../shared/challenge-entries.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { HTTPROUTES } from '../../shared/kube/kube-resources.js';
import type { Logger } from '../../shared/logger.js';
import type { DesiredCertificate, ListenerRef } from '../model.js';
import { GATEWAY_API } from '../kube/gateway-source.js';
import { serverSideApply } from '../kube/server-side-apply.js';
import type { ChallengeRouter } from './challenge-router.js';
import {
  HTTPROUTE_KIND,
  OwnedObjects,
  type DeleteOutcome,
  type OwnedObject,
} from './owned-objects.js';
import type { ResponderService } from './responder-service.js';
import { RoutingError } from './routing-error.js';
import { routingLabels } from './routing-labels.js';
import { ruleHosts } from './rule-host.js';

/** What the challenge HTTPRoute needs to know. */
export interface HttpRouteSettings {
  namespace: string;
  port: number;
  serviceNameNginx: string;
  httpRouteName: string;
}

/**
 * Builds the challenge HTTPRoute for `hosts` attached to `listeners`, as it is applied. Pure.
 * The route's hostnames are exactly the hosts: a listener attaches it for the hosts it matches.
 * IP addresses are left out (the Gateway API takes DNS names only; jobs/routing/rule-host.ts);
 * a route with no hostname left matches every host of its listeners.
 */
export function buildChallengeHttpRoute(
  settings: HttpRouteSettings,
  hosts: readonly string[],
  listeners: readonly ListenerRef[],
): KubernetesObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: `${GATEWAY_API.group}/${GATEWAY_API.version}`,
    kind: 'HTTPRoute',
    metadata: {
      name: settings.httpRouteName,
      namespace: settings.namespace,
      labels: routingLabels('gateway'),
    },
    spec: {
      parentRefs: listeners.map((listener) => ({
        group: GATEWAY_API.group,
        kind: 'Gateway',
        namespace: listener.namespace,
        name: listener.name,
        sectionName: listener.listener,
      })),
      ...hostnames(hosts),
      rules: [
        {
          // RFC 8555 §8.3: every token is under this path. PathPrefix matches by path element.
          matches: [{ path: { type: 'PathPrefix', value: CHALLENGE_PATH_PREFIX } }],
          backendRefs: [{ name: settings.serviceNameNginx, port: settings.port }],
        },
      ],
    },
  };
}

/** {@link ChallengeRouter} of the `gateway` routing: certificates asked for by Gateway listeners. */
export class HttpRouteChallengeRouter implements ChallengeRouter {
  private readonly routes: OwnedObjects;

  constructor(
    private readonly kube: KubeHttp,
    private readonly responder: ResponderService,
    private readonly settings: HttpRouteSettings,
    private readonly logger: Logger,
  ) {
    this.routes = new OwnedObjects(kube, HTTPROUTE_KIND, routingLabels('gateway'));
  }

  private get reference(): string {
    return `${this.settings.namespace}/${this.settings.httpRouteName}`;
  }

  /**
   * Ensures the responder Service (once per run) and applies the challenge HTTPRoute with
   * exactly this certificate's hosts and HTTP listeners, replacing the previous certificate's.
   * @throws RoutingError when the certificate has no hosts or listeners, or a write fails.
   */
  async open(certificate: DesiredCertificate): Promise<void> {
    const listeners = certificate.httpListeners ?? [];
    if (certificate.hosts.length === 0 || listeners.length === 0) {
      throw new RoutingError(
        'gateway',
        `${describe(certificate)} has no ${certificate.hosts.length === 0 ? 'hosts' : 'Gateway HTTP listener'} to route`,
      );
    }
    try {
      await this.responder.ensure();
    } catch (error) {
      throw new RoutingError(
        'gateway',
        `cannot ensure responder Service ${this.responder.reference}`,
        { cause: error },
      );
    }
    const body = buildChallengeHttpRoute(this.settings, certificate.hosts, listeners);
    try {
      const applied = await serverSideApply<OwnedObject>(
        this.kube,
        `apply HTTPRoute ${this.reference}`,
        {
          type: HTTPROUTES,
          namespace: this.settings.namespace,
          name: this.settings.httpRouteName,
          body,
        },
      );
      this.routes.record(applied, 'written');
    } catch (error) {
      throw new RoutingError(
        'gateway',
        `cannot apply challenge HTTPRoute ${this.reference} for ${describe(certificate)}`,
        { cause: error },
      );
    }
    this.logger.debug('challenge httproute applied', {
      httpRoute: this.reference,
      hosts: certificate.hosts,
      listeners: listeners.map((l) => `${l.namespace}/${l.name}/${l.listener}`),
    });
  }

  /**
   * Deletes the challenge HTTPRoute by name, only if it carries our labels; absent is fine.
   * @throws RoutingError when the read or the delete fails.
   */
  async close(certificate: DesiredCertificate): Promise<void> {
    let outcome: DeleteOutcome;
    try {
      outcome = await this.deleteRoute();
    } catch (error) {
      throw new RoutingError(
        'gateway',
        `cannot delete challenge HTTPRoute ${this.reference} after ${describe(certificate)}`,
        { cause: error },
      );
    }
    this.logger.debug('challenge httproute removed', { httpRoute: this.reference, outcome });
  }

  /**
   * End of run: deletes the challenge HTTPRoute (a crashed run's too) and the responder Service,
   * each by name and only if labelled as ours.
   * @throws RoutingError when a delete fails (the other is still attempted).
   */
  async cleanup(): Promise<void> {
    const failures: unknown[] = [];
    await this.deleteRoute().catch((error: unknown) => failures.push(error));
    await this.responder.remove().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) {
      throw new RoutingError('gateway', `cleanup failed in namespace ${this.settings.namespace}`, {
        cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
      });
    }
  }

  private deleteRoute(): Promise<DeleteOutcome> {
    return this.routes.delete({
      namespace: this.settings.namespace,
      name: this.settings.httpRouteName,
    });
  }
}

function describe(certificate: DesiredCertificate): string {
  return `certificate ${certificate.namespace}/${certificate.secretName}`;
}

function hostnames(hosts: readonly string[]): { hostnames?: string[] } {
  const names = ruleHosts(hosts).filter((host) => host !== undefined);
  return names.length === 0 ? {} : { hostnames: names };
}
