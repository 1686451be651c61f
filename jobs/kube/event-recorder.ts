/**
 * Adapter: Kubernetes Events on the objects that asked for a certificate (users' Ingresses), so `kubectl describe ingress` says what the job
 * did and why (issued, failed, invalid entry). Recording is best effort: a failed Event is logged
 * by the caller and never fails the entry.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { REQUESTER_API_VERSIONS, type EventType, type Requester } from '../model.js';
import { kubeCall } from './kube-call.js';

export class EventRecorder {
  constructor(
    private readonly api: CoreV1Api,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Records one Event on the object that asked for a certificate.
   * @throws KubeApiError when the API refuses it.
   */
  async record(target: Requester, type: EventType, reason: string, message: string): Promise<void> {
    const time = this.now();
    await kubeCall(`create Event on ${target.kind} ${target.namespace}/${target.name}`, () =>
      this.api.createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { generateName: `${target.name}.`, namespace: target.namespace },
          involvedObject: {
            apiVersion: REQUESTER_API_VERSIONS[target.kind],
            kind: target.kind,
            name: target.name,
            namespace: target.namespace,
            uid: target.uid,
          },
          type,
          reason,
          // The API limits an Event's message to 1 KiB.
          message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
          source: { component: 'kube-lego' },
          reportingComponent: 'kube-lego',
          reportingInstance: process.env.HOSTNAME ?? 'kube-lego',
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      }),
    );
  }
}
