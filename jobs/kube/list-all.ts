/**
 * Adapter helper: follows a Kubernetes list's `continue` token to the end, so a run costs one
 * request per page (500 objects) rather than one per object.
 */

/** Page size of every list call the job makes. */
export const PAGE_SIZE = 500;

/** Calls `page` with each continue token until the server says there is no more. */
export async function listAll<T>(
  page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const result = await page(cont);
    items.push(...result.items);
    cont = result.metadata?._continue || undefined;
  } while (cont);
  return items;
}
