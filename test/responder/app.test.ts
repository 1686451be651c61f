/**
 * Component tests of the challenge port's app through `app.callback()` (on a plain Node server,
 * so that raw request targets and Host headers reach it as a validator or an attacker sends
 * them), with a fake challenge lookup.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ChallengeEntry } from '../../shared/challenge-entries.js';
import { createLogger, type LogLevel } from '../../shared/logger.js';
import { BODIES, type ChallengeLookup, type RequestResult } from '../../responder/answer.js';
import { createResponderApp } from '../../responder/app.js';
import { ChallengeTable } from '../../responder/challenge-table.js';
import { send, sendRaw } from './http-request.js';

const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const THUMBPRINT = '9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI';
const KEY_AUTHORIZATION = `${TOKEN}.${THUMBPRINT}`;
const DOMAIN = 'a.example.com';
const PREFIX = '/.well-known/acme-challenge/';

interface Harness {
  base: string;
  results: RequestResult[];
  lines: string[];
  setReady(ready: boolean): void;
  server: Server;
}

async function startApp(options: {
  lookup?: ChallengeLookup;
  level?: LogLevel;
  maxHeaders?: number;
}): Promise<Harness> {
  const entries = new Map<string, ChallengeEntry>([
    [TOKEN, { token: TOKEN, domain: DOMAIN, keyAuthorization: KEY_AUTHORIZATION }],
  ]);
  const results: RequestResult[] = [];
  const lines: string[] = [];
  let ready = true;
  const app = createResponderApp({
    challenges: options.lookup ?? { find: (token) => entries.get(token) },
    isReady: () => ready,
    countRequest: (result) => results.push(result),
    logger: createLogger({
      level: options.level ?? 'info',
      type: 'json',
      write: (line) => lines.push(line),
    }),
    maxHeaders: options.maxHeaders ?? 50,
  });
  const callback = app.callback();
  const server = createServer((req, res) => {
    void callback(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    results,
    lines,
    setReady: (value) => (ready = value),
    server,
  };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => {
      resolve();
    });
  });
}

describe('the challenge app', { timeout: 30_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startApp({});
  });
  after(() => close(h.server));
  beforeEach(() => {
    h.results.length = 0;
  });

  test('answers a pending token for its domain with the key authorization, uncached', async () => {
    const res = await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN });
    assert.equal(res.status, 200);
    assert.equal(res.body, KEY_AUTHORIZATION);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain\b/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['content-length'], String(KEY_AUTHORIZATION.length));
    assert.deepEqual(h.results, ['served']);
  });

  test('the Host is compared without its port and without case', async () => {
    for (const host of [`${DOMAIN}:80`, `${DOMAIN}:8080`, 'A.Example.COM', 'A.EXAMPLE.COM:443']) {
      const res = await send(h.base, { path: PREFIX + TOKEN, host });
      assert.equal(res.status, 200, host);
      assert.equal(res.body, KEY_AUTHORIZATION, host);
    }
  });

  test('a query string is ignored', async () => {
    const res = await send(h.base, { path: `${PREFIX}${TOKEN}?x=1`, host: DOMAIN });
    assert.equal(res.status, 200);
  });

  test('a wrong host gets the constant 404', async () => {
    const hosts = [
      'b.example.com',
      'example.com',
      `${DOMAIN}.evil.example`,
      `evil.example:${DOMAIN}`,
      `x${DOMAIN}`,
      `${DOMAIN}.`,
      '127.0.0.1',
      '[::1]:80',
      '',
    ];
    for (const host of hosts) {
      const res = await send(h.base, { path: PREFIX + TOKEN, host });
      assert.equal(res.status, 404, host);
      assert.equal(res.body, BODIES.notFound, host);
      assert.equal(res.headers['cache-control'], 'no-store');
    }
    assert.deepEqual(new Set(h.results), new Set(['wrong_host']));
  });

  test('a request without any Host (HTTP/1.0) gets the constant 404', async () => {
    const { text } = await sendRaw(h.base, `GET ${PREFIX}${TOKEN} HTTP/1.0\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 404 /);
    assert.ok(text.endsWith(`\r\n\r\n${BODIES.notFound}`));
    assert.ok(!text.includes(THUMBPRINT));
    assert.deepEqual(h.results, ['wrong_host']);
  });

  test('an unknown token gets the constant 404', async () => {
    const res = await send(h.base, {
      path: `${PREFIX}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
      host: DOMAIN,
    });
    assert.equal(res.status, 404);
    assert.equal(res.body, BODIES.notFound);
    assert.deepEqual(h.results, ['not_found']);
  });

  test('a token outside the base64url alphabet gets the constant 404', async () => {
    const tokens = [
      `${TOKEN}=`,
      'abc.def',
      'abc+def',
      'abc~def',
      '%41bc',
      `${TOKEN}%00`,
      `${TOKEN};x`,
      `${TOKEN}#x`,
      'ab%20cd',
      'x'.repeat(257),
      '',
    ];
    for (const token of tokens) {
      const res = await send(h.base, { path: PREFIX + token, host: DOMAIN });
      assert.equal(res.status, 404, token);
      assert.equal(res.body, BODIES.notFound, token);
    }
    assert.deepEqual(new Set(h.results), new Set(['bad_token']));
  });

  test('path tricks never reach the token: .., encoded slashes, extra or doubled slashes', async () => {
    const paths = [
      `${PREFIX}../acme-challenge/${TOKEN}`,
      `${PREFIX}./${TOKEN}`,
      `/.well-known/./acme-challenge/${TOKEN}`,
      `/x/../.well-known/acme-challenge/${TOKEN}`,
      `/.well-known/acme-challenge/%2E%2E/acme-challenge/${TOKEN}`,
      `/.well-known/acme-challenge%2F${TOKEN}`,
      `/.well-known%2Facme-challenge%2F${TOKEN}`,
      `${PREFIX}${TOKEN}%2F`,
      `${PREFIX}${TOKEN}%2f..`,
      `${PREFIX}${TOKEN}/`,
      `${PREFIX}${TOKEN}/extra`,
      `${PREFIX}${TOKEN}/..`,
      `${PREFIX}/${TOKEN}`,
      `//.well-known/acme-challenge/${TOKEN}`,
      `/.well-known//acme-challenge/${TOKEN}`,
      `/.WELL-KNOWN/ACME-CHALLENGE/${TOKEN}`,
      `/.well-known/acme-challenge\\${TOKEN}`,
      `http://${DOMAIN}${PREFIX}${TOKEN}`,
      `/.well-known/acme-challenge`,
      `/.well-known/`,
      `/`,
      `/index.html`,
      `/../../etc/passwd`,
      `/.well-known/acme-challenge/../../../../etc/passwd`,
      `*`,
    ];
    for (const path of paths) {
      const res = await send(h.base, { path, host: DOMAIN });
      assert.equal(res.status, 404, path);
      assert.equal(res.body, BODIES.notFound, path);
      assert.ok(!res.body.includes(THUMBPRINT), path);
    }
    assert.ok(h.results.every((r) => r === 'not_found' || r === 'bad_token'));
  });

  test('HEAD behaves like GET without a body', async () => {
    const served = await send(h.base, { method: 'HEAD', path: PREFIX + TOKEN, host: DOMAIN });
    assert.equal(served.status, 200);
    assert.equal(served.body, '');
    assert.equal(served.headers['content-length'], String(KEY_AUTHORIZATION.length));
    assert.equal(served.headers['cache-control'], 'no-store');
    const wrongHost = await send(h.base, { method: 'HEAD', path: PREFIX + TOKEN, host: 'b.test' });
    assert.equal(wrongHost.status, 404);
    assert.equal(wrongHost.body, '');
    const other = await send(h.base, { method: 'HEAD', path: '/nothing', host: DOMAIN });
    assert.equal(other.status, 404);
    assert.deepEqual(h.results, ['served', 'wrong_host', 'not_found']);
  });

  test('other methods on the challenge path get 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']) {
      for (const path of [PREFIX + TOKEN, `${PREFIX}not.a.token`, PREFIX]) {
        const res = await send(h.base, { method, path, host: DOMAIN });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.allow, 'GET, HEAD');
        assert.equal(res.body, BODIES.methodNotAllowed);
      }
    }
    assert.deepEqual(new Set(h.results), new Set(['method_not_allowed']));
  });

  test('a request body is never read, and other methods elsewhere get 404', async () => {
    const res = await send(h.base, {
      method: 'POST',
      path: '/upload',
      host: DOMAIN,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(1000) }),
    });
    assert.equal(res.status, 404);
    assert.equal(res.body, BODIES.notFound);
  });

  test('/healthz is alive; /readyz follows readiness; both only for GET and HEAD', async () => {
    assert.equal((await send(h.base, { path: '/healthz' })).status, 200);
    h.setReady(false);
    const notReady = await send(h.base, { path: '/readyz' });
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body, BODIES.notReady);
    assert.equal((await send(h.base, { path: '/healthz' })).status, 200);
    h.setReady(true);
    assert.equal((await send(h.base, { path: '/readyz' })).status, 200);
    assert.equal((await send(h.base, { path: '/readyz', method: 'HEAD' })).status, 200);
    assert.equal((await send(h.base, { path: '/healthz', method: 'POST' })).status, 405);
    assert.equal((await send(h.base, { path: '/healthz/' })).status, 404);
    assert.deepEqual(h.results.slice(0, 6), [
      'probe',
      'probe',
      'probe',
      'probe',
      'probe',
      'method_not_allowed',
    ]);
  });

  test('every answer except a served token has a body from the constant set', async () => {
    const constant = new Set<string>(Object.values(BODIES));
    for (const path of ['/', '/metrics', `${PREFIX}x`, '/readyz', '/healthz']) {
      const res = await send(h.base, { path, host: DOMAIN });
      assert.ok(constant.has(res.body), path);
    }
  });
});

describe('the challenge app, failing and logging', { timeout: 30_000 }, () => {
  test('an unexpected error is a constant 500 with no detail, and a log line', async () => {
    const h = await startApp({
      lookup: {
        find: () => {
          throw new Error('secret internal detail at /srv/app.js:12');
        },
      },
    });
    try {
      const res = await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN });
      assert.equal(res.status, 500);
      assert.equal(res.body, BODIES.error);
      assert.ok(!JSON.stringify(res.headers).includes('secret'));
      assert.deepEqual(h.results, ['error']);
      assert.equal(h.lines.length, 1);
      assert.match(h.lines[0]!, /"level":"error".*secret internal detail/);
    } finally {
      await close(h.server);
    }
  });

  test('at info level nothing is logged per request; at debug one access line, without the key authorization', async () => {
    const quiet = await startApp({ level: 'info' });
    const loud = await startApp({ level: 'debug' });
    try {
      for (const h of [quiet, loud]) {
        await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN });
        await send(h.base, { path: '/nothing', host: DOMAIN });
      }
      assert.deepEqual(quiet.lines, []);
      assert.equal(loud.lines.length, 2);
      const first = JSON.parse(loud.lines[0]!) as Record<string, unknown>;
      assert.equal(first.level, 'debug');
      assert.equal(first.msg, 'request');
      assert.equal(first.status, 200);
      assert.equal(first.result, 'served');
      assert.equal(first.url, PREFIX + TOKEN);
      assert.equal(first.host, DOMAIN);
      assert.equal(typeof first.ms, 'number');
      for (const line of loud.lines) assert.ok(!line.includes(THUMBPRINT), line);
    } finally {
      await close(quiet.server);
      await close(loud.server);
    }
  });

  test('a request with more header lines than the limit gets 431', async () => {
    const h = await startApp({ maxHeaders: 5 });
    try {
      const headers = (n: number) =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, '1']));
      // Host and Connection (sent by Node's client) are two header lines: 3 more make 5.
      const atLimit = await send(h.base, {
        path: PREFIX + TOKEN,
        host: DOMAIN,
        headers: headers(3),
      });
      assert.equal(atLimit.status, 200);
      const over = await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN, headers: headers(4) });
      assert.equal(over.status, 431);
      assert.equal(over.body, BODIES.tooManyHeaders);
      assert.deepEqual(h.results, ['served', 'too_many_headers']);
    } finally {
      await close(h.server);
    }
  });

  test('a token is answered as soon as the table has it, and not after it is removed', async () => {
    const table = new ChallengeTable(
      createLogger({ level: 'error', type: 'text', write: () => undefined }),
    );
    const h = await startApp({ lookup: table });
    try {
      assert.equal((await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN })).status, 404);
      table.replace({
        [TOKEN]: JSON.stringify({ domain: DOMAIN, keyAuthorization: KEY_AUTHORIZATION }),
      });
      const res = await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN });
      assert.equal(res.status, 200);
      assert.equal(res.body, KEY_AUTHORIZATION);
      table.replace({});
      assert.equal((await send(h.base, { path: PREFIX + TOKEN, host: DOMAIN })).status, 404);
    } finally {
      await close(h.server);
    }
  });
});
