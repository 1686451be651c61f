/**
 * The challenge port's Koa app: carries out {@link answerRequest}'s decision, adds the headers
 * every answer carries, counts the result and, at debug level only, writes one access-log line.
 *
 * It never reads a request body, never serves a file, and never puts an error's message or stack
 * in a response: an unexpected error is a constant 500 and a log line.
 */
import Koa from 'koa';
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
export function createResponderApp(options: ResponderAppOptions): Koa {
  const { challenges, isReady, countRequest, logger, maxHeaders } = options;
  const app = new Koa();
  // Koa's own handler would print errors to stderr; ours go through the logger.
  app.silent = true;
  app.on('error', (error: unknown) => {
    logger.error('unexpected error while answering a request', { error: describeError(error) });
  });

  app.use((ctx) => {
    const started = logger.enabled('debug') ? performance.now() : 0;
    const req = ctx.req;
    let answer: Answer;
    try {
      answer =
        req.rawHeaders.length / 2 > maxHeaders
          ? { status: 431, body: BODIES.tooManyHeaders, result: 'too_many_headers' }
          : answerRequest(
              { method: req.method ?? '', url: req.url ?? '', host: req.headers.host },
              challenges,
              isReady(),
            );
    } catch (error) {
      logger.error('could not answer a request', { error: describeError(error) });
      answer = { status: 500, body: BODIES.error, result: 'error' };
    }
    // The answer is written here, in one writeHead, rather than through Koa's response setters
    // and its respond(): those (status lookup, MIME lookup, one validated setHeader per header)
    // cost more than deciding the answer, and made the responder 0.76–0.84× a bare node:http
    // server (docs/responder.md, benchmark). `ctx.respond = false` is Koa's way to say so.
    ctx.respond = false;
    // Node leaves the body out for HEAD by itself, keeping Content-Length.
    ctx.res.writeHead(answer.status, headersFor(answer)).end(answer.body);
    countRequest(answer.result);
    if (started !== 0) {
      const result = answer.result;
      ctx.res.once('finish', () => {
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
  });
  return app;
}
