/**
 * The baseline of `npm run bench:responder`: a bare `node:http` server that answers the same
 * challenge URLs the same way (a token map, the Host checked, the same headers and bodies), with
 * none of the responder's framework, hardening, metrics, logging or API-server watch.
 *
 *   node bare-server.js <tokens.json> <port> <host>
 *
 * `tokens.json` is `[{ token, domain, keyAuthorization }]`. Prints `listening` when ready.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

interface Entry {
  domain: string;
  keyAuthorization: string;
}

const [file = '', port = '0', host = '127.0.0.1'] = process.argv.slice(2);
const entries = JSON.parse(readFileSync(file, 'utf8')) as (Entry & { token: string })[];
const tokens = new Map<string, Entry>(entries.map((e) => [e.token, e]));
const PREFIX = '/.well-known/acme-challenge/';
const headers = (body: string) => ({
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': Buffer.byteLength(body),
});

createServer((req, res) => {
  const url = req.url ?? '';
  const entry = url.startsWith(PREFIX) ? tokens.get(url.slice(PREFIX.length)) : undefined;
  const name = (req.headers.host ?? '').split(':')[0]?.toLowerCase();
  if (entry !== undefined && name === entry.domain) {
    res.writeHead(200, headers(entry.keyAuthorization)).end(entry.keyAuthorization);
  } else {
    res.writeHead(404, headers('Not Found\n')).end('Not Found\n');
  }
}).listen(Number(port), host, () => {
  process.stdout.write('listening\n');
});
