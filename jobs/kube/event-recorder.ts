/**
 * Adapter: Kubernetes Events on the objects that asked for a certificate (users' Ingresses), so
 * `kubectl describe ingress` says what the job did and why (issued, failed, invalid entry).
 * Recording is best effort: a failed Event is logged by the caller and never fails the entry.
 *
 * Repeats are aggregated as Kubernetes' own event recorder does: an Event with the same involved
 * object, type, reason and message as an existing one raises that Event's `count` and
 * `lastTimestamp` instead of adding another, so an entry whose problem did not change gives one
 * Event with a growing count, not one per run. The Event's name is derived from those four
 * things, so the existing one is found with one `get` (and no list of every Event).
 */
import { createHash } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { isConflict } from '../../shared/kube/api-error.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { EVENTS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { REQUESTER_API_VERSIONS, type EventType, type Requester } from '../model.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';

export class EventRecorder {
  constructor(
    private readonly kube: KubeHttp,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Records one Event on the object that asked for a certificate: a new one (count 1), or the
   * same Event seen again (count + 1, lastTimestamp now).
   * @throws KubeApiError when the API refuses it.
   */
  async record(target: Requester, type: EventType, reason: string, message: string): Promise<void> {
    const time = this.now();
    // The API limits an Event's message to 1 KiB.
    const text = message.length > 1000 ? `${message.slice(0, 997)}...` : message;
    const name = eventName(target, type, reason, text);
    const where = `Event ${target.namespace}/${name} on ${target.kind} ${target.name}`;
    for (let attempt = 1; ; attempt++) {
      const existing = await kubeCallUnlessNotFound(`get ${where}`, () =>
        this.kube.get<Wire<CoreV1Event>>(EVENTS, target.namespace, name),
      );
      if (existing && sameEvent(existing, target, type, reason, text)) {
        await kubeCall(`patch ${where}`, () =>
          // JSON Patch (RFC 6902) without a `test`: runs are serialised by the Lease.
          this.kube.patch(EVENTS, target.namespace, name, 'json', [
            { op: 'add', path: '/count', value: (existing.count ?? 1) + 1 },
            { op: 'add', path: '/lastTimestamp', value: time.toISOString() },
          ]),
        );
        return;
      }
      try {
        await kubeCall(`create ${where}`, () =>
          this.kube.create(EVENTS, target.namespace, {
            metadata: {
              // The same name for an object recreated under the same name (another uid) would
              // clash: such an Event is replaced by a fresh one below.
              name: existing ? `${name}.${time.getTime().toString(16)}` : name,
              namespace: target.namespace,
            },
            involvedObject: {
              apiVersion: REQUESTER_API_VERSIONS[target.kind],
              kind: target.kind,
              name: target.name,
              namespace: target.namespace,
              uid: target.uid,
            },
            type,
            reason,
            message: text,
            source: { component: 'kube-lego' },
            reportingComponent: 'kube-lego',
            reportingInstance: process.env.HOSTNAME ?? 'kube-lego',
            // Time fields take any RFC 3339 time. eventTime stays unset: it is a MicroTime,
            // which must have exactly six fractional digits (see run-lease.ts).
            firstTimestamp: time.toISOString(),
            lastTimestamp: time.toISOString(),
            count: 1,
          } satisfies Wire<CoreV1Event>),
        );
        return;
      } catch (error) {
        // Created meanwhile by another run: count it instead.
        if (isConflict(error) && attempt < 3) continue;
        throw error;
      }
    }
  }
}

/**
 * The name of the Event for one (object, type, reason, message): the object's name and a digest
 * of the rest, within the 253 characters of a name.
 */
function eventName(target: Requester, type: string, reason: string, message: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([target.kind, target.uid, type, reason, message]))
    .digest('hex')
    .slice(0, 16);
  return `${target.name.slice(0, 200)}.${digest}`;
}

function sameEvent(
  event: Wire<CoreV1Event>,
  target: Requester,
  type: string,
  reason: string,
  message: string,
): boolean {
  return (
    event.involvedObject.uid === target.uid &&
    event.involvedObject.kind === target.kind &&
    event.type === type &&
    event.reason === reason &&
    event.message === message
  );
}
