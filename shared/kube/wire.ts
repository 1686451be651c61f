/**
 * Objects as the API server sends them, typed with `@kubernetes/client-node`'s model types
 * (types only: nothing of the library is loaded). The library's models hold `Date` objects
 * where the JSON holds RFC 3339 strings (`creationTimestamp`, a Lease's `renewTime`, an Event's
 * `lastTimestamp`); {@link Wire} says what is actually on the wire, so the compiler catches a
 * date read as if it were parsed.
 */

/** `T` with every `Date` field as the string the JSON carries. */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;
