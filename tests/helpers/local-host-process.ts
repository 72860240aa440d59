/**
 * Starts the built local host (`node dist/local/main.js`) as a child process, the way a developer
 * runs it, for the e2e tier. Every child and every temporary data directory made here is tracked:
 * call `cleanupLocalHosts()` in afterAll (and the jest worker kills leftovers on exit anyway).
 *
 *   const host = await startLocalHostProcess();
 *   await fetch(`${host.baseUrl}/health`);
 *   await host.stop(); // SIGTERM, resolves with the exit code
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LocalHostProcess {
  /** `http://127.0.0.1:<port>/api` (loopback by address, so no IPv6/IPv4 guessing for `localhost`). */
  baseUrl: string;
  port: number;
  /** The bootstrap admin key: the one passed in BRIDGE_ADMIN_KEY, or the one the host generated. */
  adminKey: string;
  dataDir: string;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit; resolves with the exit code (null when killed by a signal). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, then waits for the exit: a crash, with no chance to flush or close anything. */
  kill9(): Promise<void>;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
}

export interface StartOptions {
  /** Reuse a data directory (e.g. to restart after a crash); default: a fresh temporary one. */
  dataDir?: string;
  /** Extra environment for the child; wins over the defaults (PORT=0, BRIDGE_ACCESS_LOG=false). */
  env?: Record<string, string>;
  /** How long to wait for the "listening on" line. */
  startTimeoutMs?: number;
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const HOST_SCRIPT = path.join(PROJECT_ROOT, 'dist', 'local', 'main.js');
const LISTENING = /Portal Bridge local host listening on http:\/\/[^:\s]+:(\d+)(\/\S*)/;
const MAX_OUTPUT_CHARS = 1_000_000;

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** A fresh temporary data directory, removed by cleanupLocalHosts(). */
export function makeTempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-e2e-'));
  tempDirs.add(dir);
  return dir;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([exited(child).then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The environment of the child: this process's, minus any BRIDGE_* setting that leaked in from outside. */
function childEnv(dataDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('BRIDGE_') && name !== 'PORT') env[name] = value;
  }
  return { ...env, PORT: '0', BRIDGE_DATA_DIR: dataDir, BRIDGE_ACCESS_LOG: 'false', ...extra };
}

export async function startLocalHostProcess(options: StartOptions = {}): Promise<LocalHostProcess> {
  if (!fs.existsSync(HOST_SCRIPT)) throw new Error(`${HOST_SCRIPT} is missing: run npm run build first.`);
  const dataDir = options.dataDir ?? makeTempDataDir();
  const env = childEnv(dataDir, options.env ?? {});
  const child = spawn(process.execPath, [HOST_SCRIPT], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));

  let output = '';
  const append = (chunk: Buffer) => {
    if (output.length < MAX_OUTPUT_CHARS) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let port: number;
  let prefix: string;
  try {
    [port, prefix] = await new Promise<[number, string]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "listening on" line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onData = () => {
        const match = LISTENING.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve([Number(match[1]), match[2] as string]);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        reject(new Error(`the host exited before listening (code ${code}, signal ${signal})`));
      };
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child);
    throw new Error(`${(error as Error).message}\n--- host output ---\n${output}`);
  }

  const adminKey = env.BRIDGE_ADMIN_KEY ?? fs.readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    port,
    adminKey,
    dataDir,
    child,
    output: () => output,
    async stop(stopTimeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, stopTimeoutMs))) {
        child.kill('SIGKILL');
        await exited(child);
        throw new Error(`the host did not stop within ${stopTimeoutMs} ms of SIGTERM\n${output}`);
      }
      return child.exitCode;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

/** Kills every child still running (SIGKILL) and removes the temporary data directories. */
export async function cleanupLocalHosts(): Promise<void> {
  const children = [...liveChildren];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort when a test file forgets cleanupLocalHosts() or the worker is torn down mid-test.
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});
