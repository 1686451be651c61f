/**
 * The responder's settings: the common ones (namespace, port, logging, the two ConfigMaps) plus
 * the metrics port and the bind address. Each is a `LEGO_*` variable and a flag, as in the job.
 */
import { isIP } from 'node:net';
import { commonSettings } from '../shared/config/common-settings.js';
import { port } from '../shared/config/parsers.js';
import { InvalidValue, setting, type SettingValues } from '../shared/config/setting.js';

/** An IP address to listen on, or empty text for every interface (IPv6 and IPv4). */
export function bindAddress(raw: string): string {
  const value = raw.trim();
  if (value !== '' && isIP(value) === 0) {
    throw new InvalidValue(
      'an IP address such as 0.0.0.0, :: or 127.0.0.1 (or empty for all interfaces)',
    );
  }
  return value;
}

export const responderSettings = {
  ...commonSettings,
  metricsPort: setting({
    env: 'LEGO_METRICS_PORT',
    flag: 'metrics-port',
    description:
      'Port of /metrics (Prometheus text format); a port of its own, because LEGO_PORT is reachable from the internet',
    default: '9090',
    parse: port,
  }),
  bindAddress: setting({
    env: 'LEGO_BIND_ADDRESS',
    flag: 'bind-address',
    description: 'Address both ports listen on; empty for all interfaces',
    default: '',
    parse: bindAddress,
  }),
};

/** The resolved settings of the responder. */
export type ResponderSettings = SettingValues<typeof responderSettings>;
