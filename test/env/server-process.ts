/**
 * A test server as a child process: output to a log file, readiness polled, and stopped with its
 * whole process group. Each child runs under `setpriv --pdeathsig SIGKILL`, so the kernel kills
 * it if the test runner dies without cleaning up (even on SIGKILL): no process is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const SETPRIV = '/usr/bin/setpriv';
const live = new Set<ChildProcess>();

/** Kills every server still running, synchronously; safe to call from an `exit` handler. */
export function killAllSync(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

export interface ServerSpec {
  /** Name used in errors, e.g. "kube-apiserver". */
  name: string;
  binary: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Resolves true once the server answers as ready; called repeatedly. */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
}

export class ServerProcess {
  private constructor(
    readonly spec: ServerSpec,
    private readonly child: ChildProcess,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Starts the server and waits until it is ready.
   * @throws Error naming the server, with the tail of its log, if it exits or is not ready in time.
   */
  static async start(spec: ServerSpec): Promise<ServerProcess> {
    if (!existsSync(spec.binary)) {
      throw new Error(
        `${spec.name}: binary ${spec.binary} does not exist (run npm run test:env:build)`,
      );
    }
    const fd = openSync(spec.logFile, 'a');
    const useSetpriv = existsSync(SETPRIV);
    const child = spawn(
      useSetpriv ? SETPRIV : spec.binary,
      useSetpriv ? ['--pdeathsig', 'SIGKILL', '--', spec.binary, ...spec.args] : spec.args,
      { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, ...spec.env } },
    );
    closeSync(fd);
    live.add(child);
    const server = new ServerProcess(spec, child);
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve(`exited early (code ${code}, signal ${signal})`);
      });
      child.once('error', (error) => {
        resolve(`could not start: ${error.message}`);
      });
    });
    const deadline = Date.now() + spec.readyTimeoutMs;
    let lastError = 'not ready';
    for (;;) {
      const outcome = await Promise.race([exited, sleep(250).then(() => undefined)]);
      if (outcome !== undefined) {
        live.delete(child);
        throw new Error(`${spec.name} ${outcome}; last log lines:\n${tail(spec.logFile)}`);
      }
      try {
        if (await spec.ready()) return server;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(
          `${spec.name} was not ready within ${spec.readyTimeoutMs / 1000}s (${lastError}); last log lines:\n${tail(spec.logFile)}`,
        );
      }
    }
  }

  /** Stops the server: SIGTERM to its process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      live.delete(child);
      return;
    }
    const gone = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    await gone;
    clearTimeout(timer);
    live.delete(child);
  }
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
