/**
 * The hardened server around the app, on a real listening socket (app.callback() alone cannot
 * show header limits, timeouts or connection handling): oversized heads, too many headers,
 * slow clients, idle connections, `Expect: 100-continue`, bodies, and graceful shutdown.
 *
 * No test measures time: each waits for the server to act (answer, close, resolve), bounded only
 * by a guard far longer than any limit under test, and tells the cause apart by what the server
 * sent. Durations are printed.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ChallengeEntry } from '../../shared/challenge-entries.js';
import { createLogger, silentLogger } from '../../shared/logger.js';
import { BODIES, type RequestResult } from '../../responder/answer.js';
import { createResponderApp } from '../../responder/app.js';
import {
  DEFAULT_LIMITS,
  HardenedServer,
  type RejectReason,
  type RequestHandler,
  type ServerLimits,
} from '../../responder/http-server.js';
import { send, sendRaw } from './http-request.js';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
const DOMAIN = 'h.example.com';
const PATH = `/.well-known/acme-challenge/${TOKEN}`;
/** How long sendRaw waits for the server to close: a guard against a server that never does. */
const CLOSE_GUARD_MS = 60_000;

interface Running {
  base: string;
  server: HardenedServer;
  results: RequestResult[];
  rejected: RejectReason[];
}

async function start(
  limits: Partial<ServerLimits> = {},
  handler?: RequestHandler,
): Promise<Running> {
  const entry: ChallengeEntry = {
    token: TOKEN,
    domain: DOMAIN,
    keyAuthorization: KEY_AUTHORIZATION,
  };
  const results: RequestResult[] = [];
  const rejected: RejectReason[] = [];
  const app = createResponderApp({
    challenges: { find: (t) => (t === TOKEN ? entry : undefined) },
    isReady: () => true,
    countRequest: (r) => results.push(r),
    logger: silentLogger,
    maxHeaders: limits.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
  });
  const server = new HardenedServer(handler ?? app.callback(), {
    limits,
    logger: silentLogger,
    onRejected: (r) => rejected.push(r),
  });
  const address = await server.listen(0, '127.0.0.1');
  return { base: `http://127.0.0.1:${address.port}`, server, results, rejected };
}

describe('the hardened server with the default limits', { timeout: 120_000 }, () => {
  let r: Running;
  before(async () => {
    r = await start();
  });
  after(() => r.server.shutdown(0));

  test('serves a token', async () => {
    const res = await send(r.base, { path: PATH, host: DOMAIN });
    assert.equal(res.status, 200);
    assert.equal(res.body, KEY_AUTHORIZATION);
  });

  test('a request head over 8 KiB gets 431 and the connection closed, before the app', async () => {
    const before = r.results.length;
    const res = await send(r.base, {
      path: PATH,
      host: DOMAIN,
      headers: { 'x-large': 'a'.repeat(9 * 1024) },
    });
    assert.equal(res.status, 431);
    assert.equal(res.body, '');
    assert.equal(r.results.length, before, 'the app never saw it');
    assert.deepEqual(r.rejected, ['header_overflow']);
    // Many small headers that add up to more than the limit are the same thing.
    const raw = await sendRaw(
      r.base,
      `GET ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\n` +
        Array.from({ length: 400 }, (_, i) => `X-N${i}: ${'v'.repeat(20)}\r\n`).join('') +
        '\r\n',
    );
    assert.match(raw.text, /^HTTP\/1\.1 431 /);
    assert.ok(raw.closed);
  });

  test('a request with more than 50 header lines gets 431; 50 are fine', async () => {
    const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: 1\r\n`).join('');
    const ok = await sendRaw(
      r.base,
      `GET ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\nConnection: close\r\n${headers(48)}\r\n`,
    );
    assert.match(ok.text, /^HTTP\/1\.1 200 /);
    const tooMany = await sendRaw(
      r.base,
      `GET ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\nConnection: close\r\n${headers(49)}\r\n`,
    );
    assert.match(tooMany.text, /^HTTP\/1\.1 431 /);
    assert.ok(tooMany.text.endsWith(BODIES.tooManyHeaders));
    // With Host pushed past the limit Node drops it and refuses the request itself (400): a
    // refusal either way, never a token.
    const hostLast = await sendRaw(
      r.base,
      `GET ${PATH} HTTP/1.1\r\n${headers(60)}Host: ${DOMAIN}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(hostLast.text, /^HTTP\/1\.1 (400|431) /);
    assert.ok(!hostLast.text.includes(KEY_AUTHORIZATION));
  });

  test('HTTP/1.1 without Host is a 400 from Node (RFC 9112 §3.2)', async () => {
    const before = r.results.length;
    const res = await sendRaw(r.base, `GET ${PATH} HTTP/1.1\r\n\r\n`);
    assert.match(res.text, /^HTTP\/1\.1 400 /);
    assert.equal(r.results.length, before, 'the app never saw it');
  });

  test('a malformed request line is a 400 from Node, counted as rejected', async () => {
    const res = await sendRaw(r.base, 'GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.text, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    assert.ok(r.rejected.includes('bad_request'));
  });

  test('a request with a body is answered without reading it, and the connection closed', async () => {
    // 10 MB announced, a few bytes sent: the answer comes without the body and the server hangs
    // up. A server waiting for the rest would answer nothing but a 408, and only at its timeout.
    const res = await sendRaw(
      r.base,
      `POST ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\nContent-Length: 10485760\r\n\r\nonly a little`,
      CLOSE_GUARD_MS,
    );
    console.log(`answered and closed after ${res.ms} ms`);
    assert.match(res.text, /^HTTP\/1\.1 405 /);
    assert.match(res.text, /\r\nConnection: close\r\n/i);
    assert.ok(res.closed, 'closed by the server');
  });

  test('Expect: 100-continue gets the final answer at once, never an invitation to send a body', async () => {
    const res = await sendRaw(
      r.base,
      `POST ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n`,
      CLOSE_GUARD_MS,
    );
    assert.match(res.text, /^HTTP\/1\.1 405 /);
    assert.ok(!res.text.includes('100 Continue'));
    assert.ok(res.closed, 'closed rather than waiting for the body');
  });

  test('keep-alive works for ordinary requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    agent.on('free', (socket: Socket) => ports.add(socket.localPort ?? 0));
    for (let i = 0; i < 3; i++) {
      const res = await send(r.base, { path: PATH, host: DOMAIN, agent });
      assert.equal(res.status, 200);
    }
    assert.equal(ports.size, 1, 'one connection for three requests');
    agent.destroy();
  });
});

describe('the hardened server with short timeouts', { timeout: 120_000 }, () => {
  let r: Running;
  before(async () => {
    r = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200 });
  });
  after(() => r.server.shutdown(0));

  test('a client that sends its head too slowly gets 408 and is cut off', async () => {
    const res = await sendRaw(
      r.base,
      `GET ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\n`,
      CLOSE_GUARD_MS,
    );
    console.log(`cut off after ${res.ms} ms`);
    assert.ok(res.closed, 'closed by the server');
    // 408 is the head timeout's answer, never another limit's.
    assert.match(res.text, /^HTTP\/1\.1 408 /);
    assert.ok(r.rejected.includes('timeout'));
  });

  test('a connection that sends nothing is closed', async () => {
    const res = await sendRaw(r.base, '', CLOSE_GUARD_MS);
    console.log(`closed after ${res.ms} ms`);
    assert.ok(res.closed, 'closed by the server');
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const socket = connect(Number(new URL(r.base).port), '127.0.0.1');
    let text = '';
    const closed = new Promise<number>((resolve) => {
      socket.on('close', () => {
        resolve(Date.now());
      });
    });
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.write(`GET ${PATH} HTTP/1.1\r\nHost: ${DOMAIN}\r\n\r\n`);
    const sent = Date.now();
    // The client never closes: the server does, whenever that is (the test's timeout bounds it).
    const at = await closed;
    console.log(`closed ${at - sent} ms after the request`);
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /\r\nKeep-Alive: timeout=\d+\r\n/i);
  });
});

describe('a client that stops reading its answer', { timeout: 120_000 }, () => {
  test('its connection is closed once the answer has written nothing for the stall timeout', async () => {
    // An answer far larger than the kernel's socket buffers, to a client that never reads it:
    // the answer can neither finish nor be evicted at the connection cap (the connection is
    // busy), so only the stall timeout closes it. The client, not reading, cannot see the close
    // itself: the server's debug line says when.
    const ANSWER_BYTES = 64 * 1024 * 1024;
    let stalled: () => void = () => undefined;
    const closedByServer = new Promise<void>((resolve) => (stalled = resolve));
    const server = new HardenedServer(
      (_req, res) => {
        res.end(Buffer.alloc(ANSWER_BYTES));
      },
      {
        limits: { stallTimeoutMs: 600 },
        logger: createLogger({
          level: 'debug',
          type: 'json',
          write: (line) => {
            if (line.includes('closing a connection stalled while answering')) stalled();
          },
        }),
      },
    );
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const socket = connect(port, '127.0.0.1');
      socket.pause();
      socket.on('error', () => undefined);
      socket.write(`GET /large HTTP/1.1\r\nHost: ${DOMAIN}\r\n\r\n`);
      await closedByServer;
      // Read what reached the client: the answer cut short, then the end of the connection.
      let received = 0;
      const ended = new Promise<void>((resolve) => {
        socket.on('close', () => {
          resolve();
        });
      });
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.resume();
      await ended;
      assert.ok(received < ANSWER_BYTES, `${received} bytes of ${ANSWER_BYTES}`);
    } finally {
      await server.shutdown(0);
    }
  });
});

describe('graceful shutdown', { timeout: 120_000 }, () => {
  test('stops accepting, finishes requests in flight, closes idle connections, and resolves', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    let allArrived: () => void = () => undefined;
    const threeArrived = new Promise<void>((resolve) => (allArrived = resolve));
    const r = await start({ drainSettleMs: 50 }, (req, res) => {
      if (++arrived === 3) allArrived();
      void gate.then(() => {
        res.setHeader('content-type', 'text/plain');
        res.end(`done ${req.url}`);
      });
    });
    const idleAgent = new Agent({ keepAlive: true });
    // An idle keep-alive connection (its first request answered once the gate opens below).
    const inFlight = [1, 2, 3].map((i) =>
      send(r.base, { path: `/slow/${i}`, agent: new Agent({ keepAlive: true }) }),
    );
    await threeArrived;
    assert.equal(r.server.requestsInFlight, 3);
    // A grace far beyond the test's timeout: the shutdown can only resolve in time because the
    // connections are gone, never because the grace ran out.
    const shutdown = r.server.shutdown(600_000);
    // No new connection is accepted once the shutdown has started (it closes the listener
    // before it first waits).
    await assert.rejects(send(r.base, { path: '/late' }), /ECONNREFUSED/);
    release();
    const answers = await Promise.all(inFlight);
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200);
      assert.equal(a.body, `done /slow/${i + 1}`);
      assert.equal(a.headers.connection, 'close', 'told to reconnect elsewhere');
    }
    const started = Date.now();
    await shutdown;
    console.log(`resolved ${Date.now() - started} ms after the last answer`);
    idleAgent.destroy();
  });

  test('closes what is still open when the grace period ends', async () => {
    let arrivedNow: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (arrivedNow = resolve));
    const r = await start({ drainSettleMs: 10 }, () => {
      arrivedNow(); // and never answers
    });
    const hanging = send(r.base, { path: '/never' }).catch((error: unknown) => error);
    await arrived;
    const started = Date.now();
    // The request never ends: only the end of the grace period can resolve the shutdown.
    await r.server.shutdown(300);
    const elapsed = Date.now() - started;
    console.log(`shutdown took ${elapsed} ms with a 300 ms grace`);
    // A lower bound only (load can only lengthen it): the request was not cut off before.
    assert.ok(elapsed >= 250, `shutdown took ${elapsed} ms`);
    assert.ok((await hanging) instanceof Error, 'the hanging request was cut off');
  });
});
