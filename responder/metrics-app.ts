/**
 * The metrics port's Koa app: `GET /metrics` in the Prometheus text format, 404 for any other
 * path. It lives on LEGO_METRICS_PORT, never on the challenge port: that one is reachable from
 * the internet (through the challenge Ingress, and wholly through the gce provider's NodePort),
 * and certificate names and expiry dates are not for everyone.
 */
import Koa from 'koa';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { BODIES } from './answer.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';

/** Builds the app; `render` produces the exposition text on each scrape. */
export function createMetricsApp(render: () => string, logger: Logger): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (error: unknown) => {
    logger.error('unexpected error on the metrics port', { error: describeError(error) });
  });
  app.use((ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    const path = (ctx.req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = BODIES.notFound;
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      ctx.type = 'text/plain';
      ctx.body = BODIES.methodNotAllowed;
      return;
    }
    try {
      const text = render();
      ctx.status = 200;
      ctx.body = text;
      ctx.set('Content-Type', PROMETHEUS_CONTENT_TYPE);
    } catch (error) {
      logger.error('could not render metrics', { error: describeError(error) });
      ctx.status = 500;
      ctx.type = 'text/plain';
      ctx.body = BODIES.error;
    }
  });
  return app;
}
