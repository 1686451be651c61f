/**
 * Port: the two Kubernetes API calls the responder makes, for one ConfigMap by name — list and
 * watch, each with the field selector `metadata.name=<name>`, which is what lets RBAC grant
 * list and watch under `resourceNames`. configmap-http-api.ts implements it over HTTPS; tests use
 * fakes.
 */

/** A ConfigMap's content; `undefined` data when it has none. */
export type ConfigMapData = Record<string, string> | undefined;

/** The answer to a list: the ConfigMap if it exists, and the list's resourceVersion. */
export interface ListResult {
  /** `undefined` when the ConfigMap does not exist. */
  configMap: { data: ConfigMapData } | undefined;
  /** Where a watch must start to miss nothing after this list. */
  resourceVersion: string;
}

/** One event of a watch (the Kubernetes watch protocol), reduced to what matters here. */
export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; data: ConfigMapData; resourceVersion: string }
  | { type: 'BOOKMARK'; resourceVersion: string }
  /** The server ended the watch with a Status: `code` 410 means the resourceVersion expired. */
  | { type: 'ERROR'; code: number | undefined; reason: string | undefined; message: string };

export interface WatchRequest {
  namespace: string;
  name: string;
  resourceVersion: string;
  /** The server ends the watch after this long (it sends a bookmark first). */
  timeoutSeconds: number;
  /** Aborting it closes the watch; the promise then rejects. */
  signal: AbortSignal;
  /** Called once the server has accepted the watch (HTTP 200). */
  onOpen: () => void;
  /** Called for each event, in order. */
  onEvent: (event: WatchEvent) => void;
}

export interface ConfigMapApi {
  /**
   * Lists the ConfigMap `name` in `namespace`.
   * @throws KubeApiError when the server refuses or cannot be reached, or `signal` aborts.
   */
  list(namespace: string, name: string, signal: AbortSignal): Promise<ListResult>;
  /**
   * Watches the ConfigMap from `resourceVersion`. Resolves when the server ends the stream.
   * @throws KubeApiError when the request fails (status 410 when the resourceVersion has
   * expired), the stream breaks, or `signal` aborts.
   */
  watch(request: WatchRequest): Promise<void>;
}
