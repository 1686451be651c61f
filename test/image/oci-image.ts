/**
 * The image that `npm run image:build` (test/image/build.sh) wrote as an OCI layout, read with
 * plain file access (index -> manifest -> config) and unpacked with umoci for the tests that
 * look inside it or run it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Where build.sh writes the layout: $KUBE_LEGO_IMAGE_DIR/oci, else .tmp/image/oci. */
export const LAYOUT = join(process.env.KUBE_LEGO_IMAGE_DIR ?? join(ROOT, '.tmp', 'image'), 'oci');

/** The tag build.sh gives the image: package.json's version. */
export const TAG = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** The parts of an OCI image configuration the tests read. */
export interface ImageConfig {
  architecture: string;
  os: string;
  config: {
    User?: string;
    WorkingDir?: string;
    Entrypoint?: string[];
    Cmd?: string[];
    Env?: string[];
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
  };
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The image's manifest, configuration and layer descriptors. */
export interface OciImage {
  config: ImageConfig;
  layers: Descriptor[];
}

/**
 * Fails with what to do when the image is not there: `npm test` builds it first (run-tests.sh
 * runs build.sh) and prints why a build failed; by hand, `npm run image:build` (as root).
 * @throws Error naming the missing layout or tag, and the build failure if run-tests.sh saw one.
 */
export function requireImage(): void {
  const failed = process.env.KUBE_LEGO_IMAGE_BUILD_FAILED;
  const why = failed
    ? `test/image/build.sh failed before the tests (${failed}); its output is above the test output`
    : 'build it with `npm run image:build` (as root; needs umoci), which `npm test` runs first';
  if (!existsSync(join(LAYOUT, 'index.json'))) {
    throw new Error(`the image is missing: no OCI layout at ${LAYOUT}; ${why}`);
  }
  if (!indexEntry()) throw new Error(`the OCI layout ${LAYOUT} has no tag ${TAG}; ${why}`);
}

function indexEntry(): Descriptor | undefined {
  const index = JSON.parse(readFileSync(join(LAYOUT, 'index.json'), 'utf8')) as {
    manifests: Descriptor[];
  };
  return index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === TAG);
}

/** The path of a blob of the layout. */
export function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(LAYOUT, 'blobs', algorithm!, hex!);
}

/**
 * The image tagged TAG.
 * @throws Error (see requireImage) when the layout or the tag is missing.
 */
export function readImage(): OciImage {
  requireImage();
  const manifest = JSON.parse(readFileSync(blobPath(indexEntry()!.digest), 'utf8')) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const config = JSON.parse(readFileSync(blobPath(manifest.config.digest), 'utf8')) as ImageConfig;
  return { config, layers: manifest.layers };
}

/**
 * Unpacks the image into `bundle` (an empty or absent folder) with `umoci unpack`: the root file
 * system in `bundle/rootfs` and an OCI runtime spec made from the image's configuration in
 * `bundle/config.json`. Needs root, as the files keep their owners.
 * @throws Error with umoci's output.
 */
export function unpackImage(bundle: string): void {
  requireImage();
  try {
    execFileSync('umoci', ['unpack', '--image', `${LAYOUT}:${TAG}`, bundle], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`umoci unpack ${LAYOUT}:${TAG} failed: ${stderr}`, { cause: error });
  }
}

/**
 * What the tests of a file need before they run (the image unpacked, an install, a container).
 * A `before` hook that throws is not counted as a failed test by Node 20's runner (it reports
 * "fail 0" and exits 1), so the hooks run their steps through `run`, which keeps the first
 * error, and every test starts with `check`, which throws it: each test then fails, naming why.
 */
export class Setup {
  private error: Error | undefined;

  /** Runs `step` unless an earlier one failed; keeps its error instead of throwing it. */
  async run(step: () => unknown): Promise<void> {
    if (this.error !== undefined) return;
    try {
      await step();
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** @throws the first error of a step, if any. */
  check(): void {
    if (this.error !== undefined) throw this.error;
  }
}
