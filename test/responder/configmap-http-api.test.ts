/**
 * The HTTP adapter against a fake API server on loopback: the requests it sends (path, field
 * selector, watch parameters, bearer token), list answers, Status errors, watch lines split
 * across chunks, a broken stream, an abort. The real API server is in the integration tests.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { KubeApiError } from '../../shared/errors.js';
import type { WatchEvent } from '../../responder/configmap-api.js';
import { HttpConfigMapApi } from '../../responder/configmap-http-api.js';
import { claimPort } from '../env/context.js';
import type { KubeConnection } from '../../shared/kube/kube-connection.js';

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server;
let route: Route = (_req, res) => res.writeHead(500).end();
const seen: { url: URL; authorization: string | undefined }[] = [];
let api: HttpConfigMapApi;
let token = 'tok-a';

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ url, authorization: req.headers.authorization });
    route(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const connection: KubeConnection = {
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tls: { rejectUnauthorized: true },
    bearerToken: () => token,
    source: 'test',
  };
  // A guard against a fake that never answers, generous for a loaded machine; no test meets it.
  api = new HttpConfigMapApi(connection, 30_000);
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('HttpConfigMapApi', { timeout: 30_000 }, () => {
  test('list: one GET with the name as field selector and the bearer token', async () => {
    route = (_req, res) => {
      json(res, 200, {
        kind: 'ConfigMapList',
        metadata: { resourceVersion: '42' },
        items: [{ metadata: { name: 'cm', resourceVersion: '40' }, data: { a: '1' } }],
      });
    };
    const listed = await api.list('ns-1', 'cm', new AbortController().signal);
    assert.deepEqual(listed, { configMap: { data: { a: '1' } }, resourceVersion: '42' });
    const request = seen.at(-1)!;
    assert.equal(request.url.pathname, '/api/v1/namespaces/ns-1/configmaps');
    assert.equal(request.url.searchParams.get('fieldSelector'), 'metadata.name=cm');
    assert.equal(request.url.searchParams.get('watch'), null);
    assert.equal(request.authorization, 'Bearer tok-a');
    token = 'tok-b';
    route = (_req, res) => {
      json(res, 200, { metadata: { resourceVersion: '43' }, items: [] });
    };
    assert.deepEqual(await api.list('ns-1', 'cm', new AbortController().signal), {
      configMap: undefined,
      resourceVersion: '43',
    });
    assert.equal(seen.at(-1)!.authorization, 'Bearer tok-b', 'the token is asked for each time');
  });

  test('list: a Status answer becomes a KubeApiError with status and reason', async () => {
    route = (_req, res) => {
      json(res, 403, {
        kind: 'Status',
        status: 'Failure',
        reason: 'Forbidden',
        message: 'configmaps "cm" is forbidden: User "x" cannot list resource',
        code: 403,
      });
    };
    await assert.rejects(api.list('ns', 'cm', new AbortController().signal), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.status, 403);
      assert.equal(error.reason, 'Forbidden');
      assert.match(error.message, /list ConfigMap ns\/cm: HTTP 403 Forbidden: configmaps "cm"/);
      return true;
    });
  });

  test('watch: parameters, events split across chunks, bookmarks, and a normal end', async () => {
    const lines = [
      {
        type: 'MODIFIED',
        object: { metadata: { name: 'cm', resourceVersion: '51' }, data: { a: '2' } },
      },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '55' } } },
      { type: 'DELETED', object: { metadata: { name: 'cm', resourceVersion: '56' } } },
    ]
      .map((l) => JSON.stringify(l) + '\n')
      .join('');
    route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      void (async () => {
        for (let i = 0; i < lines.length; i += 17) {
          res.write(lines.slice(i, i + 17));
          await sleep(2);
        }
        res.end();
      })();
    };
    const events: WatchEvent[] = [];
    let opened = 0;
    await api.watch({
      namespace: 'ns',
      name: 'cm',
      resourceVersion: '50',
      timeoutSeconds: 77,
      signal: new AbortController().signal,
      onOpen: () => opened++,
      onEvent: (e) => events.push(e),
    });
    assert.equal(opened, 1);
    assert.deepEqual(events, [
      { type: 'MODIFIED', data: { a: '2' }, resourceVersion: '51' },
      { type: 'BOOKMARK', resourceVersion: '55' },
      { type: 'DELETED', data: undefined, resourceVersion: '56' },
    ]);
    const q = seen.at(-1)!.url.searchParams;
    assert.equal(q.get('watch'), 'true');
    assert.equal(q.get('resourceVersion'), '50');
    assert.equal(q.get('allowWatchBookmarks'), 'true');
    assert.equal(q.get('timeoutSeconds'), '77');
    assert.equal(q.get('fieldSelector'), 'metadata.name=cm');
  });

  test('watch: an ERROR event is passed on; an HTTP 410 answer is a KubeApiError 410', async () => {
    route = (_req, res) => {
      res.writeHead(200).end(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' },
        }) + '\n',
      );
    };
    const events: WatchEvent[] = [];
    await api.watch({
      namespace: 'ns',
      name: 'cm',
      resourceVersion: '1',
      timeoutSeconds: 1,
      signal: new AbortController().signal,
      onOpen: () => undefined,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(events, [{ type: 'ERROR', code: 410, reason: 'Expired', message: 'too old' }]);
    route = (_req, res) => {
      json(res, 410, { kind: 'Status', code: 410, reason: 'Gone', message: 'gone' });
    };
    await assert.rejects(
      api.watch({
        namespace: 'ns',
        name: 'cm',
        resourceVersion: '1',
        timeoutSeconds: 1,
        signal: new AbortController().signal,
        onOpen: () => assert.fail('not opened'),
        onEvent: () => undefined,
      }),
      (error: unknown) => error instanceof KubeApiError && error.status === 410,
    );
  });

  test('watch: a stream that breaks rejects; an abort rejects at once', async () => {
    // The stream breaks once the client has its first event.
    let streaming: ServerResponse | undefined;
    route = (_req, res) => {
      streaming = res;
      res.writeHead(200);
      res.write(
        JSON.stringify({
          type: 'ADDED',
          object: { metadata: { name: 'cm', resourceVersion: '2' } },
        }) + '\n',
      );
    };
    const events: WatchEvent[] = [];
    await assert.rejects(
      api.watch({
        namespace: 'ns',
        name: 'cm',
        resourceVersion: '1',
        timeoutSeconds: 60,
        signal: new AbortController().signal,
        onOpen: () => undefined,
        onEvent: (e) => {
          events.push(e);
          streaming?.socket?.destroy();
        },
      }),
      /the watch stream broke/,
    );
    assert.equal(events.length, 1);

    route = (_req, res) => {
      res.writeHead(200);
      res.write('\n'); // open, then silence
    };
    const controller = new AbortController();
    let openNow: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (openNow = resolve));
    const watching = api.watch({
      namespace: 'ns',
      name: 'cm',
      resourceVersion: '1',
      timeoutSeconds: 60,
      signal: controller.signal,
      onOpen: () => {
        openNow();
      },
      onEvent: () => undefined,
    });
    await opened;
    // The stream stays open and silent (no socket timeout once a watch is open): only the abort
    // can end it, and the error says so.
    controller.abort();
    await assert.rejects(
      watching,
      (error: unknown) => error instanceof KubeApiError && /aborted/.test(error.message),
    );
  });

  test('an API server that is not there: a KubeApiError without status', async () => {
    const port = claimPort();
    const nowhere = new HttpConfigMapApi({
      server: `http://127.0.0.1:${port}`,
      tls: { rejectUnauthorized: true },
      bearerToken: () => undefined,
      source: 'test',
    });
    await assert.rejects(
      nowhere.list('ns', 'cm', new AbortController().signal),
      (error: unknown) =>
        error instanceof KubeApiError &&
        error.status === undefined &&
        /ECONNREFUSED/.test(error.message),
    );
  });
});
