/**
 * `node:http`, loaded as CommonJS. Import `Agent`, `request` and the rest from here, not from
 * `node:http`, in code the job runs at start (the responder may import `node:http` directly).
 *
 * Why: an ES `import ... from 'node:http'` makes Node build the module's ES facade, which reads
 * every export once — including `http.WebSocket`, `CloseEvent` and `MessageEvent`, lazy getters
 * that load undici, Node's fetch and WebSocket implementation (Node 22 and later). The job never
 * uses them; on Node 24 loading them cost every run about 8 ms of its start (issue 13, item 1:
 * `npm run bench:startup`). `require` returns the module object itself and reads no getter.
 */
import { createRequire } from 'node:module';

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/** `http.Agent`, the class; the type of the same name is its instances. */
export const Agent = http.Agent;
export type Agent = import('node:http').Agent;
/** `http.request`. */
export const request = http.request;
