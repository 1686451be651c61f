/**
 * The GET requests the harness uses to see whether a test server is ready: short timeouts, the
 * body as text, no retries (the caller polls).
 */
import { request as httpRequest } from 'node:http';
import { request, type Agent } from 'node:https';

/** GET over HTTPS through `agent` (its CA, and a client certificate where needed). */
export function httpsGet(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    // Pebble 2.10+ refuses ACME requests without a User-Agent.
    const req = request(
      url,
      { agent, timeout: 2000, headers: { 'user-agent': 'kube-lego-test-env' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve(body);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** GET over plain HTTP; `undefined` unless the status is 200 (or `anyStatus`). */
export function httpGet(url: string, anyStatus = false): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve(anyStatus || res.statusCode === 200 ? body : undefined);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
