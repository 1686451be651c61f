/**
 * The `host` of a challenge routing rule for a certificate's host. Pure.
 *
 * A Kubernetes Ingress rule's `host` must be a DNS name — the API server refuses an IP address
 * there ("must be a DNS name, not an IP address"), and so does the Gateway API for an HTTPRoute's
 * `hostnames` — while the ACME server validates an IP identifier by dialling that address with
 * the address as Host (RFC 8738 §4, RFC 8555 §8.3). So the challenge route for an IP address is a
 * rule without a host: it matches the challenge path on every host of the class, and the
 * responder still answers a token only for the exact host it was issued for
 * (responder/answer.ts).
 */
import { identifierType } from '../decide/ip-address.js';

/**
 * The rule hosts for `hosts`, in order: each DNS name as itself, every IP address as one
 * `undefined` (a rule without host), listed once, where the first IP address was.
 */
export function ruleHosts(hosts: readonly string[]): (string | undefined)[] {
  const result: (string | undefined)[] = [];
  let hostless = false;
  for (const host of hosts) {
    if (identifierType(host) === 'dns') {
      result.push(host);
    } else if (!hostless) {
      hostless = true;
      result.push(undefined);
    }
  }
  return result;
}
