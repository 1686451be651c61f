/**
 * Adapter: {@link ConfigMapApi} over plain HTTPS (node:https), the two GET requests of the
 * Kubernetes API that the responder needs:
 *
 *   GET /api/v1/namespaces/{ns}/configmaps?fieldSelector=metadata.name%3D{name}
 *   GET …same…&watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds={t}
 *
 * A watch answers with one JSON object per line, `{"type": …, "object": …}` (Kubernetes API
 * concepts, "Efficient detection of changes"). Why not `@kubernetes/client-node`: see
 * kube-connection.ts (its import alone is larger than the responder's memory budget).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { KubeApiError } from '../shared/errors.js';
import type {
  ConfigMapApi,
  ConfigMapData,
  ListResult,
  WatchEvent,
  WatchRequest,
} from './configmap-api.js';
import type { KubeConnection } from '../shared/kube/kube-connection.js';
import { noAnswerError, statusError } from '../shared/kube/status-error.js';

/** Longest list answer or watch line accepted: a ConfigMap holds at most 1 MiB. */
const MAX_BODY = 4 * 1024 * 1024;
/** Longest error answer kept. */
const MAX_ERROR_BODY = 64 * 1024;

interface ConfigMapObject {
  metadata?: { name?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

/** The Kubernetes API's ConfigMap list and watch, over one keep-alive connection pool. */
export class HttpConfigMapApi implements ConfigMapApi {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  /** @param requestTimeoutMs  time allowed without data before a list, or a watch's answer. */
  constructor(
    private readonly connection: KubeConnection,
    private readonly requestTimeoutMs = 10_000,
  ) {
    this.secure = connection.server.startsWith('https:');
    this.agent = this.secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ...connection.tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 8 });
  }

  /** See {@link ConfigMapApi.list}. */
  async list(namespace: string, name: string, signal: AbortSignal): Promise<ListResult> {
    const operation = `list ConfigMap ${namespace}/${name}`;
    const res = await this.get(operation, this.path(namespace, name, {}), signal);
    const body = await readBody(res, res.statusCode === 200 ? MAX_BODY : MAX_ERROR_BODY).catch(
      (error: unknown) => {
        throw noAnswerError(operation, error);
      },
    );
    if (res.statusCode !== 200) throw statusError(operation, res.statusCode, body);
    let list: { metadata?: { resourceVersion?: string }; items?: ConfigMapObject[] };
    try {
      list = JSON.parse(body) as typeof list;
    } catch (error) {
      throw new KubeApiError(operation, 200, undefined, 'the answer is not JSON', {
        cause: error,
      });
    }
    const resourceVersion = list.metadata?.resourceVersion;
    if (!resourceVersion) {
      throw new KubeApiError(operation, 200, undefined, 'the list has no resourceVersion');
    }
    const item = list.items?.find((i) => i.metadata?.name === name);
    return { configMap: item ? { data: item.data } : undefined, resourceVersion };
  }

  /** See {@link ConfigMapApi.watch}. */
  async watch(request: WatchRequest): Promise<void> {
    const { namespace, name } = request;
    const operation = `watch ConfigMap ${namespace}/${name}`;
    const res = await this.get(
      operation,
      this.path(namespace, name, {
        watch: 'true',
        resourceVersion: request.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(request.timeoutSeconds),
      }),
      request.signal,
      true,
    );
    if (res.statusCode !== 200) {
      const body = await readBody(res, MAX_ERROR_BODY).catch(() => '');
      throw statusError(operation, res.statusCode, body);
    }
    request.onOpen();
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (line.trim() === '') continue;
          let event: WatchEvent;
          try {
            event = parseEvent(line, name);
          } catch (error) {
            res.destroy();
            reject(noAnswerError(operation, error));
            return;
          }
          request.onEvent(event);
        }
        if (buffer.length > MAX_BODY) {
          res.destroy();
          reject(new KubeApiError(operation, 200, undefined, 'a watch event is too large'));
        }
      });
      res.on('error', () => undefined); // 'close' below settles
      res.on('close', () => {
        if (res.complete) resolve();
        else
          reject(
            new KubeApiError(
              operation,
              undefined,
              undefined,
              request.signal.aborted ? 'aborted' : 'the watch stream broke',
            ),
          );
      });
    });
  }

  private path(namespace: string, name: string, query: Record<string, string>): string {
    const params = new URLSearchParams({ fieldSelector: `metadata.name=${name}`, ...query });
    return `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps?${params.toString()}`;
  }

  /** Sends a GET and resolves with the answer's head. @throws KubeApiError without status. */
  private get(
    operation: string,
    path: string,
    signal: AbortSignal,
    streaming = false,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let token: string | undefined;
      try {
        token = this.connection.bearerToken();
      } catch (error) {
        reject(noAnswerError(operation, error));
        return;
      }
      const send = this.secure ? httpsRequest : httpRequest;
      const req = send(`${this.connection.server}${path}`, {
        method: 'GET',
        agent: this.agent,
        signal,
        headers: {
          accept: 'application/json',
          'user-agent': 'kube-lego-responder',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
      req.setTimeout(this.requestTimeoutMs, () => {
        req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`));
      });
      req.on('response', (res) => {
        // From here on a watch's liveness is the watcher's watchdog, not a socket timeout.
        if (streaming) req.setTimeout(0);
        resolve(res);
      });
      req.on('error', (error) => {
        reject(noAnswerError(operation, error));
      });
      req.end();
    });
  }
}

/** One watch line as an event. @throws Error when it is not a watch event. */
function parseEvent(line: string, name: string): WatchEvent {
  const parsed = JSON.parse(line) as {
    type?: string;
    object?: ConfigMapObject & { code?: number; reason?: string; message?: string };
  };
  const object = parsed.object ?? {};
  switch (parsed.type) {
    case 'ERROR':
      return {
        type: 'ERROR',
        code: typeof object.code === 'number' ? object.code : undefined,
        reason: object.reason,
        message: object.message ?? 'the API server ended the watch',
      };
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
    case 'BOOKMARK': {
      const resourceVersion = object.metadata?.resourceVersion;
      if (!resourceVersion) throw new Error(`a ${parsed.type} event without resourceVersion`);
      // The field selector sends only `name`; anything else only moves the resourceVersion on.
      if (parsed.type === 'BOOKMARK' || object.metadata?.name !== name) {
        return { type: 'BOOKMARK', resourceVersion };
      }
      const data: ConfigMapData = object.data;
      return { type: parsed.type, data, resourceVersion };
    }
    default:
      throw new Error(`an unknown watch event type ${JSON.stringify(parsed.type)}`);
  }
}

function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > limit) res.destroy(new Error(`the answer is larger than ${limit} bytes`));
    });
    res.on('end', () => {
      resolve(body);
    });
    res.on('error', reject);
  });
}
