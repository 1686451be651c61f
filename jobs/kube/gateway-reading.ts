/**
 * Whether a run reads Gateways, and reading them: LEGO_SOURCES decides, and when it is empty the
 * API server's discovery does — a cluster without the Gateway API CRDs is read as before, with
 * one info line and no error.
 */
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import type { GatewayView } from '../model.js';
import { gatewayApiServed, listGateways } from './gateway-source.js';

/**
 * The Gateways of the run: `[]` without a request when LEGO_SOURCES leaves Gateways out; else,
 * when the API server does not serve gateway.networking.k8s.io/v1, `[]` with one log line (info
 * when Gateways are read by default, a warning when LEGO_SOURCES names `gateway`).
 * @throws KubeApiError when discovery or a list call fails.
 */
export async function readGatewaysIfServed(
  kube: KubeHttp,
  settings: Pick<JobSettings, 'sources' | 'watchNamespace'>,
  logger: Logger,
): Promise<GatewayView[]> {
  const named = settings.sources.length > 0;
  if (named && !settings.sources.includes('gateway')) return [];
  if (!(await gatewayApiServed(kube))) {
    const message = 'Gateway API not installed (no gateway.networking.k8s.io/v1): Ingresses only';
    if (named) logger.warn(`${message}, although LEGO_SOURCES names gateway`);
    else logger.info(message);
    return [];
  }
  return listGateways(kube, settings.watchNamespace);
}
