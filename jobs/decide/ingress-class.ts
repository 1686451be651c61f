/**
 * Which ingress class an Ingress belongs to, and which provider routes its challenges.
 *
 * The class says which controller serves the Ingress; the provider says how this job routes
 * `/.well-known/acme-challenge/` to the responder (docs/routing.md). kube-lego's settings decide
 * both: LEGO_SUPPORTED_INGRESS_CLASS, LEGO_DEFAULT_INGRESS_CLASS, LEGO_SUPPORTED_INGRESS_PROVIDER
 * and LEGO_DEFAULT_INGRESS_PROVIDER.
 */
import type { JobSettings } from '../config.js';
import { PROVIDERS, toProvider, type Provider } from '../model.js';
import type { SkipReason } from './reasons.js';
import type { IngressView } from '../model.js';

/** The legacy class annotation, read when `spec.ingressClassName` is not set. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** kube-lego's annotation that names the provider explicitly. */
export const INGRESS_PROVIDER_ANNOTATION = 'kubernetes.io/ingress.provider';

/** The settings {@link resolveIngressClass} reads. */
export type IngressClassSettings = Pick<
  JobSettings,
  | 'defaultIngressClass'
  | 'supportedIngressClass'
  | 'defaultIngressProvider'
  | 'supportedIngressProvider'
>;

/** Why an annotated Ingress is left alone because of its class or provider. */
export type IngressClassRejectionReason = Exclude<
  SkipReason,
  'NoTlsEntries' | 'UnsupportedGatewayClass'
>;

/** The outcome of {@link resolveIngressClass}. */
export type IngressClassResult =
  | { ok: true; ingressClass: string; provider: Provider }
  | { ok: false; reason: IngressClassRejectionReason; message: string };

/**
 * Resolves an Ingress's class and provider.
 *
 * Class: `spec.ingressClassName`, else the `kubernetes.io/ingress.class` annotation, else
 * `defaultIngressClass`; it must be in `supportedIngressClass` (`UnsupportedIngressClass`
 * otherwise). Provider: the `kubernetes.io/ingress.provider` annotation, else the class itself
 * when it is a provider name (`ingress`, `gce`, or `nginx`, kube-lego's name for `ingress`), else
 * `defaultIngressProvider`, which when empty means `defaultIngressClass`; it must name a provider
 * this job can route through (aliases count) that is in `supportedIngressProvider`
 * (`UnsupportedIngressProvider` otherwise).
 *
 * Values are trimmed and lower-cased (kube-lego lower-cased them too); an empty value counts as
 * absent. Never throws.
 */
export function resolveIngressClass(
  ingress: Pick<IngressView, 'annotations' | 'ingressClassName'>,
  settings: IngressClassSettings,
): IngressClassResult {
  const ingressClass =
    present(ingress.ingressClassName) ??
    present(ingress.annotations[INGRESS_CLASS_ANNOTATION]) ??
    settings.defaultIngressClass;
  if (!settings.supportedIngressClass.includes(ingressClass)) {
    return {
      ok: false,
      reason: 'UnsupportedIngressClass',
      message: `Ingress class "${ingressClass}" is not managed here; LEGO_SUPPORTED_INGRESS_CLASS is ${settings.supportedIngressClass.join(', ')}.`,
    };
  }
  const named =
    present(ingress.annotations[INGRESS_PROVIDER_ANNOTATION]) ??
    (toProvider(ingressClass) ? ingressClass : undefined) ??
    present(settings.defaultIngressProvider) ??
    settings.defaultIngressClass;
  const provider = toProvider(named);
  if (provider === undefined || !settings.supportedIngressProvider.includes(provider)) {
    return {
      ok: false,
      reason: 'UnsupportedIngressProvider',
      message: `Ingress provider "${named}" (class "${ingressClass}") cannot route challenges here; LEGO_SUPPORTED_INGRESS_PROVIDER is ${settings.supportedIngressProvider.join(', ')} and the providers this job knows are ${PROVIDERS.join(', ')}. Set the ${INGRESS_PROVIDER_ANNOTATION} annotation or LEGO_DEFAULT_INGRESS_PROVIDER.`,
    };
  }
  return { ok: true, ingressClass, provider };
}

function present(value: string | undefined): string | undefined {
  const normalized = value?.trim().toLowerCase();
  return normalized === '' ? undefined : normalized;
}
