/**
 * Adapter: the status ConfigMap (format: shared/status-entries.ts), read at the start of a run
 * (it holds the failure back-off memory and the operator's requests) and written once at its end;
 * the `retry` and `renew` commands add a request key, and a run removes a request it honours.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { CONFIGMAPS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { MANAGED_BY } from '../../shared/labels.js';
import {
  decodeStatus,
  encodeStatus,
  requestKey,
  REQUEST_KINDS,
  type CertificateStatus,
  type PendingRequest,
  type RequestKind,
  type RunStatus,
} from '../../shared/status-entries.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';
import { retryOnConflict } from './retry-on-conflict.js';

/** The status as the last run recorded it (the job's reading of the status ConfigMap). */
export interface RecordedStatus {
  certificates: CertificateStatus[];
  run: RunStatus | undefined;
  /** The operator's pending requests (retry, renew); absent: none. */
  requests?: PendingRequest[];
  /** Keys that could not be read (skipped, reported). */
  malformed: string[];
}

export class StatusStore {
  constructor(
    private readonly kube: KubeHttp,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  /**
   * The last written status; empty when the ConfigMap does not exist yet.
   * @throws KubeApiError on any other failure.
   */
  async read(): Promise<RecordedStatus> {
    const configMap = await this.get();
    if (configMap === undefined)
      return { certificates: [], run: undefined, requests: [], malformed: [] };
    return decodeStatus(configMap.data);
  }

  /**
   * Replaces the status with this run's, keeping the pending requests for the certificates
   * written (a request added while the run worked is not lost: the write starts from a fresh read
   * and is made again on 409 Conflict; a request for a certificate no longer managed is dropped).
   * Only one run works at a time (Lease).
   * @throws KubeApiError when the write fails.
   */
  async write(certificates: readonly CertificateStatus[], run: RunStatus): Promise<void> {
    const where = `${this.namespace}/${this.name}`;
    const wanted = new Set(
      certificates.flatMap((c) =>
        REQUEST_KINDS.map((kind) => requestKey(kind, c.namespace, c.secretName)),
      ),
    );
    await retryOnConflict(async () => {
      const current = await this.get();
      const requests = Object.fromEntries(
        decodeStatus(current?.data)
          .requests.filter((r) => wanted.has(r.key))
          .map((r) => [r.key, r.value]),
      );
      const body: V1ConfigMap = {
        metadata: {
          name: this.name,
          namespace: this.namespace,
          labels: { ...MANAGED_BY },
          ...(current?.metadata?.resourceVersion
            ? { resourceVersion: current.metadata.resourceVersion }
            : {}),
        },
        data: { ...encodeStatus(certificates, run), ...requests },
      };
      if (current !== undefined) {
        await kubeCall(`update ConfigMap ${where}`, () =>
          this.kube.replace(CONFIGMAPS, this.namespace, this.name, body),
        );
        return;
      }
      // Created in between (by a request, or a slower run): 409, read again and replace.
      await kubeCall(`create ConfigMap ${where}`, () =>
        this.kube.create(CONFIGMAPS, this.namespace, body),
      );
    });
  }

  /**
   * Records a `kind` request for the certificate `namespace/secretName` (a merge patch of its one
   * key, whose value is `value`, e.g. the time). Idempotent.
   * @throws KubeApiError (404 when the ConfigMap does not exist: no run has written it yet).
   */
  async addRequest(
    kind: RequestKind,
    certificate: { namespace: string; secretName: string },
    value: string,
  ): Promise<string> {
    const key = requestKey(kind, certificate.namespace, certificate.secretName);
    await kubeCall(`patch ConfigMap ${this.namespace}/${this.name}`, () =>
      this.kube.patch(CONFIGMAPS, this.namespace, this.name, 'merge', { data: { [key]: value } }),
    );
    return key;
  }

  /**
   * Removes a request, in one JSON Patch (RFC 6902) whose `test` operation makes the API server
   * refuse it (422) when the key no longer has the value read: a request renewed meanwhile is
   * honoured by the next run rather than lost.
   * @throws KubeApiError when the key changed or is gone, or the write fails.
   */
  async clearRequest(request: PendingRequest): Promise<void> {
    // RFC 6901: `~` and `/` in a key are written `~0` and `~1` (keys here have neither).
    const path = `/data/${request.key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    await kubeCall(
      `remove ${request.kind} request from ConfigMap ${this.namespace}/${this.name}`,
      () =>
        this.kube.patch(CONFIGMAPS, this.namespace, this.name, 'json', [
          { op: 'test', path, value: request.value },
          { op: 'remove', path },
        ]),
    );
  }

  private get(): Promise<Wire<V1ConfigMap> | undefined> {
    return kubeCallUnlessNotFound(`get ConfigMap ${this.namespace}/${this.name}`, () =>
      this.kube.get<Wire<V1ConfigMap>>(CONFIGMAPS, this.namespace, this.name),
    );
  }
}
