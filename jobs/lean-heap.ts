/**
 * V8's `--optimize-for-size`, switched on by the job itself once a command's code is loaded.
 *
 * Why (issue 13; docs/design.md, "The job's start and heap"): under V8's default heuristics a
 * no-op run over 5,000 certificates grows its old space to 255–290 MB of peak RSS instead of
 * collecting the list pages it is done with; with `--optimize-for-size` it peaks at 140–150 MB.
 * Given on Node's command line, though, the flag changes V8's flag hash, so V8 rejects the code
 * cache Node embeds for its own modules and the image's compile cache is filed apart: every start
 * compiled `https`, `tls`, `crypto` and the rest from source (20–40 ms, a third of the start-up).
 * The heuristics it changes (how far the heap grows before a full collection, the memory-reducing
 * mode) are read by V8 at each collection, so setting it after the start-up keeps both: the start
 * reads every cache, the run keeps the small heap. What V8 sizes once at start (the young
 * generation) the CronJob's `--max-semi-space-size=1` sets, which leaves the hash alone.
 *
 * What is compiled after the switch (the ACME side, loaded only when a certificate is ordered) no
 * longer matches the caches and is compiled from source: loading it takes about 280 ms instead of
 * 170 (Node 24), once in a run that orders, beside seconds of ACME round trips. A no-op run loads
 * every module before the switch, each accepted from the cache (checked with
 * NODE_DEBUG_NATIVE=COMPILE_CACHE).
 */

const FLAG = '--optimize-for-size';
/** `--optimize-for-size`, `--no-optimize-for-size`, with dashes or underscores, with a value. */
const CHOSEN = /^--(no-?)?optimize[-_]for[-_]size(=|$)/;

/**
 * Whether the job should switch the flag on itself: not when the operator chose either way on
 * Node's command line (Node then applied that choice). NODE_OPTIONS cannot carry the flag: Node
 * refuses to start ("is not allowed in NODE_OPTIONS").
 */
export function leanHeapWanted(execArgv: readonly string[]): boolean {
  return !execArgv.some((option) => CHOSEN.test(option));
}

let switched = false;

/**
 * Switches V8 to `--optimize-for-size` for the rest of the process, once, unless the operator
 * chose otherwise ({@link leanHeapWanted}). Call it after the command's modules are loaded: what
 * is compiled later misses the compile caches.
 * @returns whether this call switched it.
 */
export function useLeanHeap(): boolean {
  if (switched || !leanHeapWanted(process.execArgv)) return false;
  switched = true;
  // node:v8 is loaded only here: a static import would add it to every start.
  process.getBuiltinModule('node:v8').setFlagsFromString(FLAG);
  return true;
}
