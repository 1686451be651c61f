/**
 * Adapter helper: follows a Kubernetes list's `continue` token to the end, so a run costs one
 * request per page rather than one per object, and converts each page as it arrives, so the
 * library's full objects of only one page are alive at a time.
 */

/**
 * Objects per list request. 1,000 keeps a no-op run over 5,000 Ingresses at a handful of
 * requests while one page of Secrets (certificate chains and keys, ~5 KB each) stays a few MB.
 */
export const PAGE_SIZE = 1000;

/** Calls `page` with each continue token until the server says there is no more. */
export async function listAll<T, V>(
  page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
  convert: (item: T) => V,
): Promise<V[]> {
  const out: V[] = [];
  let cont: string | undefined;
  do {
    const result = await page(cont);
    for (const item of result.items) out.push(convert(item));
    cont = result.metadata?._continue || undefined;
  } while (cont);
  return out;
}
