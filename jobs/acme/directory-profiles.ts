/**
 * Adapter: the certificate profiles an ACME directory advertises (draft-aaron-acme-profiles:
 * `meta.profiles`, an object from profile name to a description). acme-client 5.4 reads the
 * directory but does not expose `meta`, so it is one unauthenticated GET of the directory URL
 * through acme-client's HTTP client (readAcmeDirectory, jobs/acme/renewal-info.ts).
 */
import { readAcmeDirectory } from './renewal-info.js';

/**
 * The profile names the directory advertises, sorted; `undefined` when its `meta` has no
 * `profiles` object (a server without profiles).
 * @throws AcmeUnavailableError when the directory cannot be read.
 */
export async function readAdvertisedProfiles(directoryUrl: string): Promise<string[] | undefined> {
  const { meta } = await readAcmeDirectory(directoryUrl);
  const profiles = (meta as { profiles?: unknown } | undefined)?.profiles;
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles))
    return undefined;
  return Object.keys(profiles).sort();
}
