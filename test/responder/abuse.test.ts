/**
 * The responder under abuse (issue 9, item 7), on a real listening socket with the real app and
 * token table: 1,100 slow clients holding connections with unfinished request heads must not
 * keep a validator's request from being answered, and repeated bursts of random requests get no
 * 5xx. Timings are reported (t.diagnostic), never asserted; `npm run bench:responder` measures
 * them against a bare server, with the responder's memory across bursts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeChallenge, type ChallengeEntry } from '../../shared/challenge-entries.js';
import { silentLogger } from '../../shared/logger.js';
import { BODIES, type RequestResult } from '../../responder/answer.js';
import { createResponderApp } from '../../responder/app.js';
import { ChallengeTable } from '../../responder/challenge-table.js';
import { DEFAULT_LIMITS, HardenedServer, type ShedReason } from '../../responder/http-server.js';
import { send } from './http-request.js';

const PREFIX = '/.well-known/acme-challenge/';
const SLOW_CLIENTS = 1_100;
/** Both ends of every connection live in this process, and some to spare. */
const FILES_NEEDED = 2 * SLOW_CLIENTS + 512;

/**
 * Raises this process's open-files soft limit to `needed` (up to the hard limit) with prlimit(1)
 * when it is lower: Node has no setrlimit. Fails with the reason when that is impossible.
 */
function ensureOpenFiles(needed: number): void {
  const limits = () => {
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    const value = (text: string | undefined) =>
      text === undefined || text === 'unlimited' ? Infinity : Number(text);
    return { soft: value(match?.[1]), hard: value(match?.[2]) };
  };
  const { soft, hard } = limits();
  if (soft >= needed) return;
  const target = Math.min(needed, hard);
  const result = spawnSync('prlimit', [`--pid=${process.pid}`, `--nofile=${target}:`], {
    encoding: 'utf8',
  });
  assert.ok(
    limits().soft >= needed,
    `this test needs ${needed} open files; the limit is ${soft} (hard ${hard}) and prlimit said: ${result.stderr || result.error?.message}`,
  );
}

function makeEntries(count: number): ChallengeEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      domain: `host-${i}.abuse.example`,
      keyAuthorization: `${token}.${randomBytes(32).toString('base64url')}`,
    };
  });
}

interface Running {
  base: string;
  port: number;
  server: HardenedServer;
  results: RequestResult[];
  shed: ShedReason[];
}

async function start(
  entries: ChallengeEntry[],
  limits: Partial<typeof DEFAULT_LIMITS>,
): Promise<Running> {
  const challenges = new ChallengeTable(silentLogger);
  challenges.replace(Object.fromEntries(entries.map((e) => [e.token, encodeChallenge(e)])));
  const results: RequestResult[] = [];
  const shed: ShedReason[] = [];
  const app = createResponderApp({
    challenges,
    isReady: () => true,
    countRequest: (r) => results.push(r),
    logger: silentLogger,
    maxHeaders: DEFAULT_LIMITS.maxHeaders,
  });
  const server = new HardenedServer(app.callback(), {
    limits,
    logger: silentLogger,
    onShed: (reason) => shed.push(reason),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    server,
    results,
    shed,
  };
}

describe('1,100 slow clients and a validator', { timeout: 120_000 }, () => {
  const entries = makeEntries(10);
  let running: Running;
  const sockets: Socket[] = [];

  before(async () => {
    ensureOpenFiles(FILES_NEEDED);
    // Node's head timeout would close the slow clients after 10 s by itself; a minute here
    // leaves them open for the whole test, so only the connection cap can let the request in.
    running = await start(entries, { headersTimeoutMs: 60_000, requestTimeoutMs: 120_000 });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await running.server.shutdown(0);
  });

  test('the validator is answered with the key authorization', async (t) => {
    const cap = DEFAULT_LIMITS.maxConnections;
    let closedByServer = 0;
    let allClosed: () => void = () => undefined;
    // Past the cap, the rest are closed by the server (evicted, or refused on arrival).
    const pastCapClosed = new Promise<void>((resolve) => (allClosed = resolve));
    await Promise.all(
      Array.from(
        { length: SLOW_CLIENTS },
        () =>
          new Promise<void>((resolve, reject) => {
            // Half a request head, then nothing: a slowloris client.
            const socket = connect(running.port, '127.0.0.1', () => {
              socket.write(`GET ${PREFIX}x HTTP/1.1\r\nHost: slow.example\r\n`, () => {
                resolve();
              });
            });
            socket.on('close', () => {
              if (++closedByServer === SLOW_CLIENTS - cap) allClosed();
            });
            socket.on('error', (error: NodeJS.ErrnoException) => {
              // A connection evicted before its write finished; it counts as closed.
              if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve();
              else reject(error);
            });
            sockets.push(socket);
          }),
      ),
    );
    await pastCapClosed;
    t.diagnostic(
      `${SLOW_CLIENTS} slow clients connected; the server evicted ${running.shed.length}, ${SLOW_CLIENTS - closedByServer} still open`,
    );

    const entry = entries[3]!;
    const started = performance.now();
    const answer = await send(running.base, {
      path: PREFIX + entry.token,
      host: entry.domain,
      // A generous bound, not a timing assertion: the head timeout here is a minute.
      timeoutMs: 20_000,
    });
    const ms = performance.now() - started;
    t.diagnostic(`the validator's request was answered in ${ms.toFixed(1)} ms`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, entry.keyAuthorization);
    assert.deepEqual(running.results, ['served']);
    // Every connection past the cap, and the validator's, took a waiting client's place.
    assert.ok(running.shed.length >= SLOW_CLIENTS - cap + 1);
    assert.ok(running.shed.every((reason) => reason === 'evicted'));
  });
});

describe('3 bursts of 10,000 random requests', { timeout: 300_000 }, () => {
  const entries = makeEntries(1_000);
  let running: Running;
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });

  before(async () => {
    running = await start(entries, {});
  });
  after(async () => {
    agent.destroy();
    await running.server.shutdown(0);
  });

  type Kind = 'valid' | 'head' | 'unknown' | 'wrong_host' | 'bad_path' | 'post' | 'probe';
  const KINDS: Kind[] = ['valid', 'valid', 'valid', 'head', 'unknown', 'wrong_host', 'bad_path'];
  KINDS.push('post', 'probe');

  /** One random request and whether its answer is the right one. */
  async function one(): Promise<{ status: number; right: boolean }> {
    const entry = entries[randomInt(entries.length)]!;
    const other = randomBytes(randomInt(1, 48)).toString('base64url');
    const kind = KINDS[randomInt(KINDS.length)]!;
    const path = {
      valid: PREFIX + entry.token,
      head: PREFIX + entry.token,
      unknown: PREFIX + other,
      wrong_host: PREFIX + entry.token,
      bad_path: `${PREFIX}${other}/../${entry.token}%2F`,
      post: PREFIX + entry.token,
      probe: '/readyz',
    }[kind];
    const answer = await send(running.base, {
      path,
      method: kind === 'head' ? 'HEAD' : kind === 'post' ? 'POST' : 'GET',
      host: kind === 'wrong_host' ? 'evil.example' : entry.domain,
      agent,
      timeoutMs: 30_000,
    });
    const expected = {
      valid: [200, entry.keyAuthorization],
      head: [200, ''],
      unknown: [404, BODIES.notFound],
      wrong_host: [404, BODIES.notFound],
      bad_path: [404, BODIES.notFound],
      post: [405, BODIES.methodNotAllowed],
      probe: [200, BODIES.ready],
    }[kind];
    return {
      status: answer.status,
      right: answer.status === expected[0] && answer.body === expected[1],
    };
  }

  test('no 5xx, and every answer is the right one', async (t) => {
    for (let burst = 1; burst <= 3; burst++) {
      const statuses = new Map<number, number>();
      let wrong = 0;
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next++ < 10_000) {
            const { status, right } = await one();
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (!right) wrong++;
          }
        }),
      );
      const fiveXx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
      t.diagnostic(
        `burst ${burst}: ${JSON.stringify(Object.fromEntries(statuses))} in ${Math.round(performance.now() - started)} ms; this process's RSS ${Math.round(process.memoryUsage.rss() / 2 ** 20)} MB`,
      );
      assert.equal(fiveXx, 0, `burst ${burst}: ${fiveXx} answers were 5xx`);
      assert.equal(wrong, 0, `burst ${burst}: ${wrong} answers were not the expected ones`);
      assert.equal(
        [...statuses.values()].reduce((a, b) => a + b, 0),
        10_000,
      );
    }
    assert.equal(running.results.length, 30_000);
  });
});
