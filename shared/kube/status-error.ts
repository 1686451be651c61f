/**
 * The errors of a plain-HTTP Kubernetes request (the job's shared/kube/kube-http.ts and the
 * responder's configmap-http-api.ts), as {@link KubeApiError}.
 */
import { KubeApiError } from '../errors.js';

/**
 * The error of an answer other than 2xx: the reason and message of the API's Status object
 * (Kubernetes API concepts, "Responses"), or the start of the text when it is none.
 */
export function statusError(
  operation: string,
  status: number | undefined,
  body: string,
): KubeApiError {
  let reason: string | undefined;
  let detail = body.slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; message?: unknown };
    if (typeof parsed.reason === 'string' && parsed.reason) reason = parsed.reason;
    if (typeof parsed.message === 'string') detail = parsed.message.slice(0, 500);
  } catch {
    // not a Status object: keep the text
  }
  return new KubeApiError(operation, status, reason, detail || 'no detail');
}

/** The error of a request that got no answer (refused, reset, aborted), keeping it as `cause`. */
export function noAnswerError(operation: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new KubeApiError(operation, undefined, undefined, message, { cause: error });
}
