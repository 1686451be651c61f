/**
 * Adapter: the Kubernetes API over plain HTTP(S) (node:http), the few verbs the job uses — get,
 * list (paged), create, replace, patch, delete — with JSON in and out.
 *
 * Why not `@kubernetes/client-node`'s API classes (issue 13): importing the library costs about
 * 75 MB and a third of a second before the first request, and its answers are deep-copied into
 * model objects, so a list of 5,000 Secrets was held twice over until the next full GC. Here
 * each list page is parsed once and turned into the caller's view at once; the page is garbage
 * as soon as the next one is asked for.
 *
 * Every request has a time limit from sending to the answer's last byte (LEGO_KUBE_TIMEOUT).
 * After one request timed out the API server is treated as gone for the rest of the process:
 * later requests fail at once instead of each waiting out the limit, so a run over a frozen API
 * server ends after one timeout, not one per remaining call.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from '../node-http.js';
import { request as httpsRequest } from 'node:https';
import { KubeApiError } from '../errors.js';
import type { KubeEndpoint } from './kube-endpoint.js';
import { resourcePath, type ResourceType } from './kube-resources.js';
import { noAnswerError, statusError } from './status-error.js';
import { KubeRequestTimeoutError } from './request-timeout.js';

/**
 * Objects per list request. 1,000 keeps a no-op run over 5,000 Ingresses at a handful of
 * requests while one page of Secrets (certificate chains and keys, ~5 KB each) stays a few MB.
 */
export const PAGE_SIZE = 1000;

/** Largest answer accepted: a page of 1,000 Secrets of 1 MiB each would not fit, none does. */
const MAX_ANSWER = 256 * 1024 * 1024;

/**
 * The patch formats of the API server (Kubernetes API concepts, "Patch"), by content type.
 * `apply` is server-side apply; its YAML body may be JSON.
 */
const PATCH_CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export type PatchType = keyof typeof PATCH_CONTENT_TYPES;

/** Query parameters; `undefined` ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** A list answer as the API server sends it. */
export interface KubeList<T> {
  items?: T[] | null;
  metadata?: { continue?: string; resourceVersion?: string };
}

export interface KubeHttpOptions {
  /** Time limit of each request, from sending to the answer's last byte. */
  timeoutMs: number;
  userAgent?: string;
  /** Objects per list request; {@link PAGE_SIZE} unless given (tests page through a few). */
  pageSize?: number;
  /** Told of each request as it is sent (method and path, no query): for tests. */
  onRequest?: (method: string, path: string) => void;
}

/** One API request. */
interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query | undefined;
  body?: unknown;
  contentType?: string;
}

/**
 * The API client of a process. Every method throws {@link KubeApiError}: `status` is the HTTP
 * status (undefined when there was no answer), `reason` and the message those of the API's
 * Status object; a time-out has reason `Timeout` and a {@link KubeRequestTimeoutError} as cause.
 * The operation it names is the method and path; jobs/kube/kube-call.ts renames it for the log.
 */
export class KubeHttp {
  private sent = 0;
  private timedOut: KubeRequestTimeoutError | undefined;

  constructor(
    readonly endpoint: KubeEndpoint,
    private readonly options: KubeHttpOptions,
  ) {}

  /** Requests sent so far (for the summary line and the benchmarks). */
  requests(): number {
    return this.sent;
  }

  /** GET one object. */
  get<T>(type: ResourceType, namespace: string | undefined, name: string, query?: Query) {
    return this.send<T>({ method: 'GET', path: resourcePath(type, namespace, name), query });
  }

  /**
   * Every object of a collection (`namespace` empty or undefined: all namespaces), one request
   * per page of {@link PAGE_SIZE} objects, each turned into a view by `convert` as its page arrives.
   * `convert` may be a promise of the function: the first page is asked for at once and converted
   * when the function is known (a caller whose conversion depends on another read need not wait
   * for that read before listing). It rejects the list when it rejects.
   */
  // T is the item type the caller expects of the JSON (not checked here), as for `get<T>`.
  async list<T, V>(
    type: ResourceType,
    namespace: string | undefined,
    query: Query,
    convert: ((item: T) => V) | Promise<(item: T) => V>,
  ): Promise<V[]> {
    const out: V[] = [];
    let cont: string | undefined;
    do {
      const page = await this.send<KubeList<T>>({
        method: 'GET',
        path: resourcePath(type, namespace),
        query: {
          ...query,
          limit: query.limit ?? this.options.pageSize ?? PAGE_SIZE,
          continue: cont,
        },
      });
      const toView = await convert;
      for (const item of page.items ?? []) out.push(toView(item));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /** POST a new object. */
  create<T>(type: ResourceType, namespace: string | undefined, body: unknown, query?: Query) {
    return this.send<T>({ method: 'POST', path: resourcePath(type, namespace), body, query });
  }

  /** PUT an object (its `metadata.resourceVersion`, when set, makes it conditional: 409). */
  replace<T>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    query?: Query,
  ) {
    return this.send<T>({
      method: 'PUT',
      path: resourcePath(type, namespace, name),
      body,
      query,
    });
  }

  /** PATCH an object in one of the API server's patch formats. */
  patch<T>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    body: unknown,
    query?: Query,
  ) {
    return this.send<T>({
      method: 'PATCH',
      path: resourcePath(type, namespace, name),
      body,
      query,
      contentType: PATCH_CONTENT_TYPES[patchType],
    });
  }

  /** DELETE an object; `body` is a DeleteOptions (preconditions, propagation policy). */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body?: unknown,
  ): Promise<unknown> {
    return this.send<unknown>({
      method: 'DELETE',
      path: resourcePath(type, namespace, name),
      body,
    });
  }

  /** Any request: the answer's JSON (`undefined` for an empty answer). */
  async send<T>(request: KubeRequest): Promise<T> {
    const operation = `${request.method} ${request.path}`;
    if (this.timedOut) {
      const notSent = new KubeRequestTimeoutError(
        this.timedOut.request,
        this.options.timeoutMs,
        true,
      );
      throw new KubeApiError(operation, undefined, 'Timeout', notSent.message, { cause: notSent });
    }
    let headers: Record<string, string>;
    try {
      headers = await this.endpoint.headers();
    } catch (error) {
      throw noAnswerError(operation, error);
    }
    this.sent++;
    this.options.onRequest?.(request.method, request.path);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const url = `${this.endpoint.server}${request.path}${queryString(request.query)}`;
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      // The socket outlives this request (keep-alive), and Node keeps this request's listeners
      // reachable from it until the socket is used again. So the listeners reach the promise
      // only through `settle`, dropped once it is settled: else the settled promise — its answer,
      // a whole list page of several megabytes — stayed alive through the status write, the
      // run's peak of memory (issue 13; seen in a heap snapshot of a 5,000-certificate run).
      let settle: { resolve: typeof resolve; reject: typeof reject } | undefined = {
        resolve,
        reject,
      };
      const send = url.startsWith('https:') ? httpsRequest : httpRequest;
      const req = send(url, {
        method: request.method,
        agent: this.endpoint.agent,
        headers: {
          accept: 'application/json',
          'user-agent': this.options.userAgent ?? 'kube-lego',
          ...headers,
          ...(body === undefined
            ? {}
            : {
                'content-type': request.contentType ?? 'application/json',
                'content-length': Buffer.byteLength(body),
              }),
        },
      });
      // Covers connecting, sending and reading the whole answer.
      const timer = setTimeout(() => {
        this.timedOut ??= new KubeRequestTimeoutError(operation, this.options.timeoutMs, false);
        req.destroy(this.timedOut);
      }, this.options.timeoutMs);
      timer.unref();
      const fail = (error: unknown) => {
        clearTimeout(timer);
        const settled = settle;
        settle = undefined;
        settled?.reject(
          error instanceof KubeRequestTimeoutError
            ? new KubeApiError(operation, undefined, 'Timeout', error.message, { cause: error })
            : noAnswerError(operation, error),
        );
      };
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        // Decoded as it arrives and joined once: no second copy of a multi-megabyte list page
        // in Buffers outside the JS heap, which V8 would free only at its next full collection.
        const parts: string[] = [];
        let size = 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          size += chunk.length;
          if (size > MAX_ANSWER) {
            req.destroy(new Error(`the answer is larger than ${MAX_ANSWER} characters`));
            return;
          }
          parts.push(chunk);
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the answer broke off before its end'));
        });
        res.on('end', () => {
          clearTimeout(timer);
          const text = parts.join('');
          parts.length = 0;
          const settled = settle;
          settle = undefined;
          settled?.resolve({ status: res.statusCode ?? 0, text });
        });
      });
      req.end(body);
    });
    if (answer.status < 200 || answer.status > 299) {
      throw statusError(operation, answer.status, answer.text);
    }
    if (answer.text === '') return undefined as T;
    try {
      return JSON.parse(answer.text) as T;
    } catch (error) {
      throw new KubeApiError(operation, answer.status, undefined, 'the answer is not JSON', {
        cause: error,
      });
    }
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
