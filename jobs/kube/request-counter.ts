/**
 * Adapter: counts the Kubernetes API requests a run makes, for the summary line and the
 * reconcile benchmark. Every request made through @kubernetes/client-node asks the KubeConfig to
 * authenticate it, so counting there sees all of them, whichever API class made the call.
 */
import type { KubeConfig } from '@kubernetes/client-node';

export interface RequestCounter {
  /** Requests made so far. */
  count(): number;
}

/** Instruments `config` in place and returns its counter. */
export function countKubeRequests(config: KubeConfig): RequestCounter {
  let requests = 0;
  const original = config.applySecurityAuthentication.bind(config);
  config.applySecurityAuthentication = async (context) => {
    requests++;
    return original(context);
  };
  return { count: () => requests };
}
