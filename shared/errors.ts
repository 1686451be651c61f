/**
 * Typed errors. Every error this project throws is a {@link KubeLegoError}; each subclass keeps
 * the error it wraps as `cause`, so the root problem is never lost behind our message.
 */

/** Base class of every error the project throws on purpose. */
export class KubeLegoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A setting has a value that cannot be used. The message names the variable, the value and what
 * is accepted; `main` turns it into exit code 2.
 */
export class ConfigError extends KubeLegoError {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly accepted: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${accepted}`, options);
  }
}

/**
 * A Kubernetes API call failed. `status` is the HTTP status (undefined when the server was not
 * reached) and `reason` the Status object's reason (`Conflict`, `NotFound`, `Forbidden`…).
 */
export class KubeApiError extends KubeLegoError {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    readonly reason: string | undefined,
    /** What went wrong, without the operation, status and reason. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${operation}: ${status === undefined ? 'no response' : `HTTP ${status}`}${reason ? ` ${reason}` : ''}: ${detail}`,
      options,
    );
  }
}

/**
 * An ACME request failed. `problemType` is the RFC 8555 §6.7 problem type when the server sent
 * one (e.g. `urn:ietf:params:acme:error:rateLimited`); `retryAfter` is when the server said to
 * come back (RFC 8555 §6.6), if it did.
 */
export class AcmeError extends KubeLegoError {
  constructor(
    message: string,
    readonly problemType: string | undefined,
    readonly retryAfter: Date | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The API server refused to write a certificate Secret (RBAC, a ValidatingAdmissionPolicy, an
 * admission webhook, a ResourceQuota…): the certificate's own failure. `detail` is the API
 * server's message, which names the rule that refused.
 */
export class SecretWriteRefusedError extends KubeLegoError {
  constructor(
    readonly namespace: string,
    readonly secretName: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`the API server refuses to write Secret ${namespace}/${secretName}: ${detail}`, options);
  }
}

/**
 * The ACME server could not be used at all: it was unreachable, did not answer in time, or
 * answered 5xx (after the quick retries of jobs/acme/acme-http.ts). Nothing about the
 * certificate being ordered is wrong, so the run stops instead of trying every other one.
 */
export class AcmeUnavailableError extends AcmeError {}

/**
 * The run was asked to stop (SIGTERM or SIGINT) and the order in progress did not finish within
 * LEGO_STOP_GRACE_PERIOD; it was abandoned.
 */
export class StoppedError extends KubeLegoError {
  constructor(readonly signal: string) {
    super(`the run was stopped (${signal}) before this certificate's order finished`);
  }
}

/** Returns the message of any thrown value, with the messages of its causes appended. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message =
      current instanceof Error
        ? current.message
        : typeof current === 'string'
          ? current
          : JSON.stringify(current);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}

/**
 * The status of every certificate does not fit in the status ConfigMap, even in its smallest form
 * (compressed, without attempt histories or recorded Secret facts): the API server would refuse
 * the write. The run fails as a whole; the message says what to do.
 */
export class StatusTooLargeError extends KubeLegoError {
  constructor(
    readonly certificates: number,
    /** The bytes of `data` in the smallest form. */
    readonly bytes: number,
    /** What a ConfigMap's `data` may hold. */
    readonly limit: number,
  ) {
    super(
      `the status of ${certificates} certificates takes ${bytes} bytes even compressed, without ` +
        `attempt histories and recorded Secret facts, and a ConfigMap holds at most ${limit}: ` +
        `split the certificates between installations, each with its own LEGO_NAMESPACE and ` +
        `LEGO_WATCH_NAMESPACE`,
    );
  }
}

/**
 * The route preflight (jobs/issue/route-preflight.ts) could not fetch a probe token through some
 * of a certificate's hosts: the certificate's own failure, found before any order. `unreachable`
 * names each such host and what was seen there instead.
 */
export class RouteUnreachableError extends KubeLegoError {
  constructor(
    readonly unreachable: readonly { host: string; seen: string }[],
    options?: { cause?: unknown },
  ) {
    super(
      `the challenge route does not reach the responder for ${unreachable
        .map((u) => `${u.host} (${u.seen})`)
        .join('; ')}; no order was made`,
      options,
    );
  }
}
