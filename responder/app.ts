/**
 * The challenge port's app: carries out {@link answerRequest}'s decision, adds the headers every
 * answer carries, counts the result and, at debug level only, writes one access-log line.
 *
 * It never reads a request body, never serves a file, and never puts an error's message or stack
 * in a response: an unexpected error is a constant 500 and a log line.
 *
 * A plain `node:http` request listener, not a Koa app (issue 13 item 6, docs/responder.md,
 * "Performance and memory"): the decision is a pure function and the answer one `writeHead`, so
 * Koa's per-request machinery (three context objects, `on-finished` listeners, the middleware
 * promise) was all it added — a fifth more CPU per request than a bare `node:http` server, and
 * some 4 MB of resident memory for loading it (its `mime-types` database among the rest).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  BODIES,
  answerRequest,
  type Answer,
  type ChallengeLookup,
  type RequestResult,
} from './answer.js';

export interface ResponderAppOptions {
  /** The pending challenges (the in-memory copy of the challenge ConfigMap). */
  challenges: ChallengeLookup;
  /** Whether `/readyz` answers 200: true once the challenge ConfigMap was listed. */
  isReady: () => boolean;
  /** Called once per request with its result (the metrics counter). */
  countRequest: (result: RequestResult) => void;
  logger: Logger;
  /**
   * A request with more header lines than this is refused with 431. The server's
   * `maxHeadersCount` must be larger (see http-server.ts), or Node drops the excess silently.
   */
  maxHeaders: number;
}

/** A request listener for `node:http` that answers every request itself and never throws. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** An app served by {@link HardenedServer} (http-server.ts) or any `node:http` server. */
export interface RequestApp {
  /** The request listener, as `http.createServer(app.callback())` takes it. */
  callback(): RequestListener;
}

/**
 * The headers of an answer. A challenge answer must not be cached by anything between us and the
 * validator, and neither may a 404 for a token that is about to appear (`no-store`).
 */
function headersFor(answer: Answer): Record<string, string> {
  const headers: Record<string, string> = {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(answer.body)),
  };
  if (answer.allow !== undefined) headers.Allow = answer.allow;
  return headers;
}

/** Longest request target or Host written to the access log. */
const LOGGED_TEXT = 200;

/**
 * Builds the app. Each request gets exactly one answer; `options.countRequest` is called once per
 * request; nothing is logged above debug level except unexpected errors.
 */
export function createResponderApp(options: ResponderAppOptions): RequestApp {
  const { challenges, isReady, countRequest, logger, maxHeaders } = options;

  const decide = (req: IncomingMessage): Answer => {
    try {
      return req.rawHeaders.length / 2 > maxHeaders
        ? { status: 431, body: BODIES.tooManyHeaders, result: 'too_many_headers' }
        : answerRequest(
            { method: req.method ?? '', url: req.url ?? '', host: req.headers.host },
            challenges,
            isReady(),
          );
    } catch (error) {
      logger.error('could not answer a request', { error: describeError(error) });
      return { status: 500, body: BODIES.error, result: 'error' };
    }
  };

  const listener: RequestListener = (req, res) => {
    const started = logger.enabled('debug') ? performance.now() : 0;
    const answer = decide(req);
    let result = answer.result;
    try {
      // Node leaves the body out for HEAD by itself, keeping Content-Length.
      res.writeHead(answer.status, headersFor(answer)).end(answer.body);
    } catch (error) {
      // Not expected: every header is a constant, every body a constant or a key authorization
      // that decoding checked. The connection is closed rather than left without an answer.
      logger.error('unexpected error while answering a request', { error: describeError(error) });
      result = 'error';
      res.destroy();
    }
    countRequest(result);
    if (started !== 0) {
      res.once('finish', () => {
        // The key authorization is never logged: only what the client sent, and the outcome.
        logger.debug('request', {
          method: req.method,
          url: (req.url ?? '').slice(0, LOGGED_TEXT),
          host: (req.headers.host ?? '').slice(0, LOGGED_TEXT),
          status: answer.status,
          result,
          ms: Math.round((performance.now() - started) * 100) / 100,
          remote: req.socket.remoteAddress,
        });
      });
    }
  };
  return { callback: () => listener };
}
