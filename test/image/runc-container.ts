/**
 * Runs a process of the unpacked image under runc (Debian's package, as root, a non-rootless
 * spec) the way the manifests' restricted pods run it: as the image's user (65532), on a
 * read-only root file system, with every capability dropped and no new privileges, with the
 * given files bind-mounted read-only (the ServiceAccount token, a CA). The network is the host's
 * (the test servers listen on loopback); every other namespace is the container's own.
 *
 *   const c = startContainer({ image, name: 'responder', args, env, mounts });
 *   await c.waitForLog((line) => line.includes('responder started'));
 *   await c.stop();
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An image unpacked by unpackImage: `bundle/rootfs` and the spec umoci made. */
export interface UnpackedImage {
  bundle: string;
}

export interface Mount {
  /** A file or folder on the host. */
  source: string;
  /** Where it appears in the container (read-only). */
  destination: string;
}

export interface ContainerOptions {
  image: UnpackedImage;
  /** A name unique in this run (the runc container id gets a random suffix). */
  name: string;
  /** The process's arguments after the image's entry point; the image's CMD when omitted. */
  args?: string[];
  /** Replaces the whole command line, entry point included (e.g. to run `node -e`). */
  command?: string[];
  /** Added to the image's environment. */
  env?: Record<string, string>;
  mounts?: Mount[];
  /** Another user than the image's (as a pod's runAsUser would set it). */
  user?: { uid: number; gid: number };
}

export interface Container {
  id: string;
  /** What the process wrote to standard output so far. */
  stdout(): string;
  /** What it wrote to standard error so far. */
  stderr(): string;
  /** The process's exit code (runc's, which is the container's) once it has ended. */
  exited: Promise<number | null>;
  /**
   * Resolves with the first line of standard error or output for which `match` is true.
   * @throws Error with the output when the container exits first.
   */
  waitForLog(match: (line: string) => boolean): Promise<string>;
  /** SIGTERM (runc passes it to the process), then the exit code. */
  stop(): Promise<number | null>;
}

interface RuntimeSpec {
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    capabilities?: Record<string, string[]>;
    noNewPrivileges?: boolean;
  };
  root: { path: string; readonly?: boolean };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: { namespaces: { type: string }[] };
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * Starts the container: writes its bundle (config.json beside the image's, the root file system
 * shared read-only) and runs `runc run` in the foreground with the output piped.
 */
export function startContainer(options: ContainerOptions): Container {
  const base = JSON.parse(
    readFileSync(join(options.image.bundle, 'config.json'), 'utf8'),
  ) as RuntimeSpec;
  const id = `kube-lego-${options.name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const bundle = join(options.image.bundle, '..', id);
  mkdirSync(bundle);
  const [entrypoint] = base.process.args;
  const spec: RuntimeSpec = {
    ...base,
    process: {
      ...base.process,
      terminal: false,
      user: options.user ?? base.process.user,
      args: options.command ?? (options.args ? [entrypoint!, ...options.args] : base.process.args),
      env: [
        ...base.process.env,
        ...Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
      ],
      // capabilities: drop ALL, as the pods' securityContext does.
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: join(options.image.bundle, 'rootfs'), readonly: true },
    mounts: [
      ...base.mounts,
      ...(options.mounts ?? []).map((m) => ({
        destination: m.destination,
        type: 'bind',
        source: m.source,
        options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
      })),
    ],
    // The host's network: the apiserver, Pebble and challtestsrv listen on 127.0.0.1.
    linux: {
      ...base.linux,
      namespaces: base.linux.namespaces.filter((n) => n.type !== 'network'),
    },
  };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));

  // runc dies with the test process (and the container with it: runc passes the signal on).
  const runc = ['runc', 'run', '--bundle', bundle, id];
  const child = spawn(SETPRIV, ['--pdeathsig', 'SIGTERM', '--', ...runc], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const feed = (chunk: string, pending: { rest: string }) => {
    pending.rest += chunk;
    const lines = pending.rest.split('\n');
    pending.rest = lines.pop()!;
    for (const line of lines) {
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  const outLines = { rest: '' };
  const errLines = { rest: '' };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    feed(c, outLines);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    feed(c, errLines);
  });
  let ended = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      ended = true;
      resolve(code);
    });
  });

  return {
    id,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLog(match) {
      const seen = `${stdout}\n${stderr}`.split('\n').find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => {
          reject(
            new Error(
              `container ${id} exited (${code}) before the awaited log line:\n${stdout}\n${stderr}`.slice(
                -6000,
              ),
            ),
          );
        });
      });
    },
    async stop() {
      if (!ended) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Runs a container to its end.
 * @returns its exit code and output.
 */
export async function runContainer(
  options: ContainerOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const container = startContainer(options);
  const code = await container.exited;
  return { code, stdout: container.stdout(), stderr: container.stderr() };
}
