/**
 * The metrics port's app: `GET /metrics` in the Prometheus text format, 404 for any other path.
 * It lives on LEGO_METRICS_PORT, never on the challenge port: that one is reachable from the
 * internet (through the challenge Ingress, and wholly through the gce provider's NodePort), and
 * certificate names and expiry dates are not for everyone.
 *
 * A plain `node:http` request listener, as the challenge port's (app.ts explains why not Koa).
 */
import type { ServerResponse } from 'node:http';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { BODIES } from './answer.js';
import type { RequestApp } from './app.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';

const TEXT = 'text/plain; charset=utf-8';

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  allow?: string,
): void {
  const headers: Record<string, string> = {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
  };
  if (allow !== undefined) headers.Allow = allow;
  // Node leaves the body out for HEAD by itself, keeping Content-Length.
  res.writeHead(status, headers).end(body);
}

/**
 * Builds the app; `render` produces the exposition text on each scrape. A failing `render` is a
 * constant 500 and a log line; the listener never throws.
 */
export function createMetricsApp(render: () => string, logger: Logger): RequestApp {
  return {
    callback: () => (req, res) => {
      try {
        const path = (req.url ?? '').split('?')[0];
        if (path !== '/metrics') {
          send(res, 404, TEXT, BODIES.notFound);
        } else if (req.method !== 'GET' && req.method !== 'HEAD') {
          send(res, 405, TEXT, BODIES.methodNotAllowed, 'GET, HEAD');
        } else {
          let text: string;
          try {
            text = render();
          } catch (error) {
            logger.error('could not render metrics', { error: describeError(error) });
            send(res, 500, TEXT, BODIES.error);
            return;
          }
          send(res, 200, PROMETHEUS_CONTENT_TYPE, text);
        }
      } catch (error) {
        logger.error('unexpected error on the metrics port', { error: describeError(error) });
        res.destroy();
      }
    },
  };
}
