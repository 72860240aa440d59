/**
 * The servers under load, each its own child process with stdout and stderr going to a file (so
 * the bench process never spends CPU on their output), and its peak RSS read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ServerChild {
  kind: 'bare' | 'host';
  /** Origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** Path prefix of the routes: '/api' for the host, '' for the bare server. */
  prefix: string;
  child: ChildProcess;
  dir: string;
  /** For the host: the bootstrap admin key it was started with. */
  adminKey: string;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRssBytes(): number;
  /** CPU time the process has used so far (user + system), in ms. */
  cpuMs(): number;
  /** SIGTERM, wait for the exit (SIGKILL after 10 s), remove the temporary directory. */
  stop(): Promise<void>;
}

const DIST = path.resolve(__dirname, '..', '..');
export const HOST_SCRIPT = path.join(DIST, 'local', 'main.js');
export const BARE_SCRIPT = path.join(DIST, 'bench', 'bare-server.js');
const LISTENING = /listening on (http:\/\/[^/\s]+)(\/\S*)?/;

const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach((child) => child.kill('SIGKILL')));

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat, in clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function peakRssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts one server and waits (polling its output file) for its "listening on" line. */
export async function startServer(
  kind: 'bare' | 'host',
  options: {
    accessLog?: boolean;
    env?: Record<string, string>;
    nodeArgs?: string[];
    hostScript?: string;
  } = {},
): Promise<ServerChild> {
  // BENCH_HOST_SCRIPT: another build's dist/local/main.js (e.g. the previous release), to compare.
  const script =
    kind === 'bare' ? BARE_SCRIPT : (options.hostScript ?? process.env.BENCH_HOST_SCRIPT ?? HOST_SCRIPT);
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run npm run build first.`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  const outFile = path.join(dir, 'output.log');
  const out = fs.openSync(outFile, 'w');
  const adminKey = `bench_${randomBytes(24).toString('base64url')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  if (kind === 'host') {
    Object.assign(env, {
      BRIDGE_DATA_DIR: path.join(dir, 'data'),
      BRIDGE_ADMIN_KEY: adminKey,
      BRIDGE_ACCESS_LOG: options.accessLog ? 'true' : 'false',
      ...options.env,
    });
  }
  // BENCH_NODE_ARGS: extra node flags for the servers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = options.nodeArgs ?? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: path.resolve(path.dirname(script), '..', '..'),
    env,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  live.add(child);
  child.once('exit', () => live.delete(child));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  for (let waited = 0; waited < 20_000; waited += 50) {
    const match = LISTENING.exec(fs.readFileSync(outFile, 'utf8'));
    if (match) {
      // The host prints http://localhost:<port>; load goes to the loopback address itself.
      const origin = (match[1] as string).replace('//localhost:', '//127.0.0.1:');
      return {
        kind,
        origin,
        prefix: match[2] ?? '',
        child,
        dir,
        adminKey,
        peakRssBytes: () => peakRssBytes(child.pid as number),
        cpuMs: () => cpuMs(child.pid as number),
        stop,
      };
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  const output = fs.readFileSync(outFile, 'utf8');
  await stop();
  throw new Error(`the ${kind} server did not start:\n${output}`);
}

/** Kills every server still running (for an interrupted run). */
export function killAll(): void {
  live.forEach((child) => child.kill('SIGKILL'));
}
