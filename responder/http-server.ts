/**
 * Adapter: a Node HTTP server with the limits a server exposed to the internet needs, and a
 * graceful shutdown that loses no request already received.
 *
 * Limits (Node's defaults in brackets): request headers at most 8 KiB [16 KiB] and 50 lines
 * [2000, and the excess silently dropped]; the headers must arrive within 10 s [60 s] and the
 * whole request within 15 s [300 s]; an idle keep-alive connection is closed after 5 s; one whose
 * answer has written nothing for 30 s (a client that stopped reading) is closed [never]; at most
 * 256 connections [unlimited] — and at that cap a new connection is admitted and one that is
 * waiting for a request head is closed in its place (connection-table.ts), so slow clients cannot
 * shut the validator out. (No per-connection request limit: past it Node answers 503 by itself
 * to a client that ignores `Connection: close`.) Requests Node itself refuses (oversized or
 * malformed headers, timeouts) get Node's bare status line and are counted as `rejected`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';
import { ConnectionTable } from './connection-table.js';

export interface ServerLimits {
  /** Largest request head (request line and headers), bytes. */
  maxHeaderSize: number;
  /** Most header lines a request may have; the app refuses more with 431. */
  maxHeaders: number;
  /** Time allowed to receive the request head, ms. */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request, ms. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number;
  /**
   * Connections open at once. At the cap a new connection is admitted by closing one waiting
   * for its request head (connection-table.ts); only if none is waiting is the new one closed.
   */
  maxConnections: number;
  /** After a shutdown starts, idle connections get this long to send a request, ms. */
  drainSettleMs: number;
  /**
   * A connection whose answer has been in flight this long without a byte written (a client that
   * stopped reading) is closed, ms; checked every sixth of it.
   */
  stallTimeoutMs: number;
}

/** The limits the responder runs with. */
export const DEFAULT_LIMITS: ServerLimits = {
  maxHeaderSize: 8 * 1024,
  maxHeaders: 50,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  // Node's HTTP server keeps the parser of every closed connection for reuse, up to 1,000, and
  // never frees them (about 10 KB of native memory each): the most connections ever open at once
  // is what stays. 256 instead of 1,024 brings the memory after the benchmark's 1,100 slow
  // clients ~6 MB lower; at the cap a waiting connection makes room, so the cap limits only
  // connections busy answering, each for microseconds (docs/responder.md, benchmark).
  maxConnections: 256,
  drainSettleMs: 250,
  stallTimeoutMs: 30_000,
};

/** Why Node refused a request before it reached the app. */
export type RejectReason = 'header_overflow' | 'timeout' | 'bad_request';

/**
 * Why a connection was closed at the connection cap: `evicted`, a connection waiting for its
 * request head, closed to admit a new one; `refused`, a new one, when none was waiting.
 */
export type ShedReason = 'evicted' | 'refused';

/** A request listener such as `app.callback()` (app.ts); it handles its own errors. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A listening HTTP server with limits, request accounting and a graceful shutdown. */
export class HardenedServer {
  private readonly server: Server;
  /** The open (admitted) connections. */
  private readonly sockets = new Set<Socket>();
  /** Requests received whose answer has not closed. */
  private answering = 0;
  /** Connections accepted plus requests received since the start. */
  private trafficCount = 0;
  /** `bytesWritten` of the sockets answering, when last seen to change (the stall sweep). */
  private readonly progress = new WeakMap<Socket, { bytes: number; since: number }>();
  private stallSweep: NodeJS.Timeout | undefined;
  private draining = false;

  /**
   * @param handler  the app (`app.callback()`); it must not read request bodies.
   * @param onRejected  called for each request Node refused before the app saw it.
   * @param onShed  called for each connection closed at the connection cap.
   */
  constructor(
    handler: RequestHandler,
    private readonly options: {
      limits?: Partial<ServerLimits>;
      logger: Logger;
      onRejected?: (reason: RejectReason) => void;
      onShed?: (reason: ShedReason) => void;
    },
  ) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.limits = limits;
    this.server = createServer({
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the two timeouts above are checked (Node's default is 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, limits.headersTimeoutMs / 4)),
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      insecureHTTPParser: false,
    });
    // One more than the app accepts, so the app can tell "too many" from "exactly the limit".
    this.server.maxHeadersCount = limits.maxHeaders + 1;
    // Not `server.maxConnections`: at the cap Node drops the *new* connection, which lets slow
    // clients holding every connection shut out a validator. The table decides instead.
    const connections = new ConnectionTable<Socket>(limits.maxConnections);
    this.server.on('connection', (socket: Socket) => {
      this.trafficCount++;
      const admission = connections.open(socket, socket.remoteAddress ?? '');
      if (!admission.admit) {
        options.onShed?.('refused');
        socket.destroy();
        return;
      }
      if ('evict' in admission) {
        options.onShed?.('evicted');
        admission.evict.destroy();
      }
      this.sockets.add(socket);
      socket.once('close', () => {
        connections.close(socket);
        this.sockets.delete(socket);
      });
    });
    // No `server.setTimeout` (socket inactivity): Node re-arms that timer on every read and
    // write of every connection, which cost a twentieth of the CPU per request (docs/responder.md,
    // benchmark). Its one use here, a connection stalled while an answer is written, is found by
    // a sweep over the answers in flight instead (sweepStalled).
    //
    // Answers are counted, not kept in a Set: putting each ServerResponse in a Set (even only to
    // delete it again) kept some 6 MB more memory after load and cost CPU per request
    // (docs/responder.md, benchmark). Where an answer is needed (the shutdown, the stall sweep),
    // the connection's current one is reached from its socket.
    const answerClosed = (socket: Socket) => {
      this.answering--;
      if (!socket.destroyed) connections.waiting(socket);
    };
    // One listener function shared by every answer, not a closure per request; 'close' comes
    // once per answer, finished or not.
    function onAnswerClose(this: ServerResponse): void {
      answerClosed(this.req.socket);
    }
    const serve = (req: IncomingMessage, res: ServerResponse): void => {
      // The head has arrived: this connection is not to be evicted while it is answered.
      connections.busy(req.socket);
      this.answering++;
      this.trafficCount++;
      res.on('close', onAnswerClose);
      // No body is ever read: a request that has one gets its answer and the connection closed,
      // rather than Node reading the body to reuse the connection. While draining, every
      // connection closes after its answer.
      if (this.draining || hasBody(req)) res.setHeader('Connection', 'close');
      void handler(req, res);
    };
    this.server.on('request', serve);
    // `Expect: 100-continue` would invite the body: answer without the interim 100.
    this.server.on('checkContinue', serve);
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      this.rejectClient(error, socket);
    });
  }

  private readonly limits: ServerLimits;

  /** Whether a shutdown has started (the app's readiness turns false then). */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Requests received whose response has not finished. */
  get requestsInFlight(): number {
    return this.answering;
  }

  /**
   * Connections accepted (refused ones included) plus requests received since the start; only
   * grows. What the idle collection (idle-collector.ts) watches for bursts and quiet.
   */
  get traffic(): number {
    return this.trafficCount;
  }

  /**
   * Starts listening. `host` empty means every interface.
   * @throws Error (e.g. EADDRINUSE) when the port cannot be bound.
   */
  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        reject(error);
      };
      this.server.once('error', fail);
      const done = () => {
        this.server.off('error', fail);
        resolve();
      };
      if (host === '') this.server.listen(port, done);
      else this.server.listen(port, host, done);
    });
    if (this.stallSweep === undefined) {
      this.stallSweep = setInterval(() => {
        this.sweepStalled(Date.now());
      }, this.limits.stallTimeoutMs / 6);
      this.stallSweep.unref();
    }
    return this.server.address() as AddressInfo;
  }

  /**
   * Closes every connection whose current answer has not written a byte for `stallTimeoutMs`
   * (its `bytesWritten`, which counts what is queued too, has not moved): a client that stopped
   * reading, whose answer can neither finish nor be evicted at the connection cap (it is busy).
   */
  private sweepStalled(now: number): void {
    for (const socket of this.sockets) {
      if (socket.destroyed || currentAnswer(socket) === undefined) continue;
      const bytes = socket.bytesWritten;
      const seen = this.progress.get(socket);
      if (seen === undefined || seen.bytes !== bytes) {
        this.progress.set(socket, { bytes, since: now });
      } else if (now - seen.since >= this.limits.stallTimeoutMs) {
        this.options.logger.debug('closing a connection stalled while answering', {
          remote: socket.remoteAddress,
        });
        socket.destroy();
      }
    }
  }

  /**
   * Stops accepting connections, answers every request already received (each with
   * `Connection: close`), closes idle connections after `drainSettleMs`, and after `graceMs`
   * closes whatever is left. Resolves when every connection is closed. Never throws.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    clearInterval(this.stallSweep);
    // Answers not yet begun tell their clients to reconnect (to another replica). (An answer
    // queued behind another on a pipelining connection is not reached; that connection is
    // closed once idle, below.)
    for (const socket of this.sockets) {
      const res = currentAnswer(socket);
      if (res !== undefined && !res.headersSent) res.setHeader('Connection', 'close');
    }
    const closed = new Promise<void>((resolve) => {
      // http.Server#close would also drop idle connections at once, including one whose request
      // is on its way; net.Server#close only stops accepting.
      NetServer.prototype.close.call(this.server, () => {
        resolve();
      });
    });
    const deadline = Date.now() + graceMs;
    await sleep(Math.min(this.limits.drainSettleMs, graceMs));
    // Connections answering a request close after it (Connection: close); idle ones are closed
    // here, again and again, since a request may have been on its way on any of them.
    for (;;) {
      this.server.closeIdleConnections();
      const left = deadline - Date.now();
      if (left <= 0) break;
      const outcome = await Promise.race([
        closed.then(() => 'closed' as const),
        sleep(Math.min(left, 50)).then(() => 'tick' as const),
      ]);
      if (outcome === 'closed') return;
    }
    this.options.logger.warn('closing connections still open after the shutdown grace period', {
      requests: this.answering,
    });
    this.server.closeAllConnections();
    await closed;
  }

  /** Node's default answer to a request it cannot accept (lib/_http_server.js), counted. */
  private rejectClient(error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const reason: RejectReason =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 'header_overflow'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'timeout'
          : 'bad_request';
    this.options.onRejected?.(reason);
    this.options.logger.debug('request refused', {
      reason,
      code: error.code,
      remote: socket.remoteAddress,
    });
    if (!currentAnswer(socket)?.headersSent) {
      socket.write(
        reason === 'header_overflow'
          ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'
          : reason === 'timeout'
            ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'
            : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n',
      );
    }
    socket.destroy(error);
  }
}

/**
 * The answer a connection is writing or about to write: Node's `socket._httpMessage`, set from
 * the moment the request is handed to the app until the answer has finished. `undefined` when
 * the connection is waiting for a request.
 */
function currentAnswer(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
