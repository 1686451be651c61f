/**
 * Every port a test run uses comes from one block, allocated once when the run starts.
 *
 * Picking ports one at a time (bind port 0, close, hand the number on) lets the kernel give the
 * same number twice: once a port is closed it is free again until its server binds it, and a
 * later pick may return it (seen: the apiserver and the responder on one port, EADDRINUSE). So
 * the run takes a block of consecutive ports instead:
 *
 * - below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), where neither
 *   `listen(0)` nor the source port of an outgoing connection ever lands;
 * - claimed machine-wide by an exclusive lock file (other test runs on the machine skip it; a
 *   lock whose process is gone is taken over);
 * - checked by binding every port of the block at once (all are held until all are bound).
 *
 * Inside the run, each port is handed out once by creating a claim file in the run's folder
 * (exclusive create), so the environment and every test process (they run one after another or
 * side by side) never get the same port.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The block of a run, as recorded in the environment's state file. */
export interface PortBlockState {
  /** First port of the block. */
  first: number;
  /** Number of ports in the block. */
  count: number;
  /** Folder holding one claim file per port handed out. */
  claims: string;
}

const LOCKS = join(tmpdir(), 'kube-lego-ts-ports');
const LOWEST = 10_000;

/** A run's block of ports; `claim` hands each port out once, across processes. */
export class PortBlock {
  private constructor(
    readonly state: PortBlockState,
    private readonly lockFile: string | undefined,
  ) {}

  /** The block recorded in a state file, for test processes (claims only, no lock of its own). */
  static of(state: PortBlockState): PortBlock {
    return new PortBlock(state, undefined);
  }

  /**
   * Allocates a free block of `count` ports below the ephemeral range (within `range`, for tests
   * of this class) and locks it machine-wide.
   * @throws Error when no block could be found (every candidate busy or locked).
   */
  static async allocate(
    claims: string,
    count = 256,
    range: { from?: number; to?: number } = {},
  ): Promise<PortBlock> {
    mkdirSync(LOCKS, { recursive: true });
    mkdirSync(claims, { recursive: true });
    const lowest = range.from ?? LOWEST;
    const ephemeralLow = Math.min(range.to ?? Infinity, ephemeralRangeStart());
    const blocks = Math.floor((ephemeralLow - lowest) / count);
    if (blocks < 1) {
      throw new Error(`no room for ${count} ports between ${lowest} and ${ephemeralLow}`);
    }
    const start = Math.floor(Math.random() * blocks);
    for (let i = 0; i < blocks; i++) {
      const first = lowest + ((start + i) % blocks) * count;
      const lockFile = join(LOCKS, `${first}-${count}.lock`);
      if (!lock(lockFile)) continue;
      if (await allBindable(first, count)) {
        return new PortBlock({ first, count, claims }, lockFile);
      }
      rmSync(lockFile, { force: true });
    }
    throw new Error(
      `no free block of ${count} loopback ports between ${lowest} and ${ephemeralLow}`,
    );
  }

  /**
   * `n` distinct ports of the block that no one in this run had before.
   * @throws Error when the block is used up.
   */
  claim(n = 1): number[] {
    const out: number[] = [];
    const { first, count, claims } = this.state;
    for (let port = first; port < first + count && out.length < n; port++) {
      try {
        closeSync(openSync(join(claims, String(port)), 'wx'));
        out.push(port);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    if (out.length < n) {
      throw new Error(`the run's ${count} ports (from ${first}) are used up`);
    }
    return out;
  }

  /** Gives the block back to the machine (the environment calls this when the run ends). */
  release(): void {
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && Number.isInteger(low) && low > LOWEST) return low;
  } catch {
    // not Linux: assume the IANA dynamic range
  }
  return 49_152;
}

/**
 * Takes the lock file (content: this process's id), or takes it over when the process that holds
 * it is gone. False when a live process holds it. Also used for other machine-wide test
 * resources (test/support/netns.ts).
 */
export function lock(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSafe(file));
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
    rmSync(file, { force: true });
  }
  return false;
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Binds every port of the block at once (holding each until all are bound), then closes all. */
async function allBindable(first: number, count: number): Promise<boolean> {
  const servers: Server[] = [];
  try {
    for (let port = first; port < first + count; port++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: '127.0.0.1', exclusive: true }, resolve);
      });
      servers.push(server);
    }
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) =>
            s.close(() => {
              resolve();
            }),
          ),
      ),
    );
  }
}
