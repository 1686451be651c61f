/**
 * A raw HTTP/1.1 client for the responder's tests: the request target is sent exactly as given
 * (no normalization of `..`, `//` or percent-escapes, unlike fetch) and the Host header is
 * whatever the test says.
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  /** The request target, sent as is. */
  path: string;
  method?: string;
  /** The Host header; `host:port` of the URL when omitted. */
  host?: string;
  headers?: Record<string, string>;
  body?: string;
  agent?: Agent | false;
  /**
   * Idle time after which the request fails, ms; 30 s when omitted: a guard against a hung
   * server, generous enough for a loaded machine.
   */
  timeoutMs?: number;
}

/** Sends one request to `base` (`http://127.0.0.1:port`) and reads the whole answer. */
export function send(base: string, options: RawRequest): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        setHost: false,
        agent: options.agent ?? false,
        headers: { host: options.host ?? url.host, ...options.headers },
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Writes `raw` bytes on a new connection and returns everything the server sends until it
 * closes the connection (or `timeoutMs` passes), and whether it closed.
 */
export function sendRaw(
  base: string,
  raw: string,
  timeoutMs = 5_000,
): Promise<{ text: string; closed: boolean; ms: number }> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - started });
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - started });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.write(raw);
  });
}
