/**
 * Where the time and the memory of the sync route go: `npm run build && node dist/bench/profile.js`.
 *
 * Starts the local host under `node --cpu-prof` (and `--trace-gc`), drives POST /api/users/{id}/sync
 * with autocannon (lib/load.ts) for the warm-up and the measured window, stops the host with SIGTERM
 * (which writes the profile) and prints:
 * - self time by area (SQLite, JSON, HTTP, zod, crypto, GC, …) and the top functions by self time;
 * - inclusive time of the bridge's own stages (route, auth, body, merge, store batch, bus send, …);
 * - RSS over the run (VmRSS every 500 ms, VmHWM) and the V8 heap after the last GCs (from --trace-gc).
 *
 * Settings (environment): PROFILE_WORKLOAD (distinct|hot, default distinct), PROFILE_CONNECTIONS
 * (default 500), PROFILE_DURATION_S (default 10), PROFILE_WARMUP_S (default 3), PROFILE_ENV (extra host
 * settings, `A=1,B=2`), PROFILE_KEEP (a directory to copy the .cpuprofile into), PROFILE_HEAP=1 (also
 * take a heap snapshot at the end of the measured window and print what holds the most memory).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requestsFor, runLoad, type Workload } from './lib/load';
import { startServer } from './lib/servers';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The measured window on the bench's clock, and when the host was told to stop. */
interface Window {
  startMs: number;
  endMs: number;
  stopMs: number;
}

const env = process.env;
const workload = (env.PROFILE_WORKLOAD ?? 'distinct') as Workload;
const connections = Number(env.PROFILE_CONNECTIONS ?? 500);
const durationS = Number(env.PROFILE_DURATION_S ?? 10);
const warmupS = Number(env.PROFILE_WARMUP_S ?? 3);
const extraEnv = Object.fromEntries(
  (env.PROFILE_ENV ?? '')
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

/** Areas by URL and function name; the first match wins. */
const AREAS: [string, (frame: CallFrame) => boolean][] = [
  ['(garbage collector)', (f) => f.functionName === '(garbage collector)'],
  ['(idle)', (f) => f.functionName === '(idle)' || f.functionName === '(program)'],
  [
    'sqlite (better-sqlite3 native)',
    (f) => f.url === '' && /^(run|get|all|exec|prepare|pluck)$/.test(f.functionName),
  ],
  ['better-sqlite3 js', (f) => f.url.includes('better-sqlite3')],
  ['JSON', (f) => f.url === '' && /^(stringify|parse)$/.test(f.functionName)],
  ['zod', (f) => f.url.includes('/zod/')],
  ['@azure/functions', (f) => f.url.includes('@azure/functions')],
  ['undici / fetch / WHATWG', (f) => f.url.includes('undici') || f.url.includes('internal/deps/undici')],
  [
    'node http/net/stream',
    (f) =>
      /node:(_http|http|net|stream|internal\/(streams|http|net|stream_base))/.test(f.url) ||
      /^node:internal\/(streams|http)/.test(f.url),
  ],
  ['crypto', (f) => f.url.includes('crypto') || f.url.includes('standardwebhooks')],
  ['node internals (other)', (f) => f.url.startsWith('node:')],
  ['other node_modules', (f) => f.url.includes('node_modules')],
  ['local host (dist/local)', (f) => f.url.includes('/dist/local/')],
  [
    'bridge (dist/shared, dist/functions)',
    (f) => f.url.includes('/dist/shared/') || f.url.includes('/dist/functions/'),
  ],
  ['native / builtins (other)', (f) => f.url === ''],
];

/** Bridge stages whose inclusive time is reported (a sample counts once per stage on its stack). */
const STAGES: [string, (frame: CallFrame) => boolean][] = [
  [
    'route() wrapper (everything of a request)',
    (f) => f.url.includes('/http/route.js') && f.functionName === '',
  ],
  ['ApiKeyService.authenticate', (f) => f.functionName === 'authenticate'],
  [
    'readJsonBody (parse + zod)',
    (f) => f.functionName === 'readJsonBody' || f.functionName === 'parseJsonText',
  ],
  ['SyncService.syncWithRetries', (f) => f.functionName === 'syncWithRetries'],
  ['mergeProfileWrite', (f) => f.functionName === 'mergeProfileWrite'],
  ['store read', (f) => f.url.includes('sqlite-document-store') && f.functionName === 'read'],
  ['store batch', (f) => f.url.includes('sqlite-document-store') && f.functionName === 'batch'],
  ['GroupCommit.commit (COMMIT)', (f) => f.url.includes('group-commit') && f.functionName === 'commit'],
  ['EventPropagator.propagate', (f) => f.functionName === 'propagate'],
  ['EmbeddedBus.send', (f) => f.url.includes('embedded-bus') && f.functionName === 'send'],
  ['EmbeddedBus.receive', (f) => f.url.includes('embedded-bus') && f.functionName === 'receive'],
  ['EmbeddedBus.complete', (f) => f.url.includes('embedded-bus') && f.functionName === 'complete'],
  ['WebhookService.fanOut', (f) => f.functionName === 'fanOut'],
  [
    'local host request handler',
    (f) => f.url.includes('/dist/local/request-loop.js') && f.functionName === '',
  ],
  ['writeFunctionsResponse', (f) => f.functionName === 'writeFunctionsResponse'],
  ['toFunctionsRequest', (f) => f.functionName === 'toFunctionsRequest'],
  ['new InvocationContext', (f) => f.functionName === 'newInvocationContext'],
  ['parserOnIncoming (node http)', (f) => f.functionName === 'parserOnIncoming'],
];

/**
 * Only the samples of the measured window. The profile's clock is the host's, so the window is
 * placed by its distance from the stop: the first sample inside the host's SIGTERM handler (`stop`
 * in local/main.js) is when the bench sent SIGTERM.
 */
function windowSamples(
  profile: CpuProfile,
  byId: Map<number, ProfileNode>,
  parent: Map<number, number>,
  window: Window,
) {
  const times: number[] = [];
  let t = 0;
  for (const delta of profile.timeDeltas) times.push((t += delta));
  const inStop = (id: number) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      if (f.functionName === 'stop' && f.url.endsWith('/local/main.js')) return true;
    }
    return false;
  };
  const stopIndex = profile.samples.findIndex(inStop);
  const stopUs = stopIndex >= 0 ? (times[stopIndex] as number) : (times[times.length - 1] ?? 0);
  const endUs = stopUs - (window.stopMs - window.endMs) * 1000;
  const startUs = stopUs - (window.stopMs - window.startMs) * 1000;
  return profile.samples
    .map((id, index) => ({ id, delta: profile.timeDeltas[index] ?? 0, at: times[index] as number }))
    .filter((sample) => sample.at >= startUs && sample.at <= endUs);
}

function analyse(profile: CpuProfile, window: Window) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (const { id, delta } of windowSamples(profile, byId, parent, window)) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const stages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const area = AREAS.find(([, test]) => test(frame))?.[0] ?? 'other';
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${path.basename(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      for (const [stage, test] of STAGES) if (test(f)) onStack.add(stage);
    }
    for (const stage of onStack) stages.set(stage, (stages.get(stage) ?? 0) + us);
  }
  return { totalUs, areas, functions, stages };
}

function table(entries: Map<string, number>, totalUs: number, top = 100): string {
  return [...entries.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([name, us]) =>
        `${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    )
    .join('\n');
}

async function main(): Promise<void> {
  const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
  const server = await startServer('host', {
    env: extraEnv,
    nodeArgs: [
      '--cpu-prof',
      `--cpu-prof-dir=${profDir}`,
      '--trace-gc',
      ...(env.PROFILE_HEAP ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${profDir}`] : []),
    ],
  });
  const rss: number[] = [];
  const sampler = setInterval(() => {
    try {
      const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
      rss.push(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      // the process is gone
    }
  }, 500);
  let peakMb = 0;
  let gcTail: string[] = [];
  const window: Window = { startMs: 0, endMs: 0, stopMs: 0 };
  try {
    const keyRes = await fetch(`${server.origin}${server.prefix}/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': server.adminKey },
      body: JSON.stringify({ role: 'user', name: 'profile' }),
    });
    const key = ((await keyRes.json()) as { key: string }).key;
    const load = await runLoad({
      origin: server.origin,
      requests: requestsFor(workload, server.prefix, 'prof'),
      connections,
      headers: { 'x-api-key': key },
      warmupS,
      rampCapS: 15,
      durationS,
    });
    window.endMs = performance.now();
    window.startMs = window.endMs - durationS * 1000;
    peakMb = server.peakRssBytes() / 1024 ** 2;
    if (env.PROFILE_HEAP) await heapSnapshot(server.child.pid as number, profDir);
    console.log(
      `${workload} @ ${connections}: ${load.reqPerSec.toFixed(0)} req/s, p50 ${load.p50.toFixed(1)} p99 ${load.p99.toFixed(1)} ms, ` +
        `non-2xx ${load.non2xx}, errors ${load.errors}, peak RSS ${peakMb.toFixed(1)} MB (profiler on: slower than the bench)`,
    );
    const output = fs.readFileSync(path.join(server.dir, 'output.log'), 'utf8').split('\n');
    gcTail = output.filter((line) => /Mark-Compact|Scavenge/.test(line)).slice(-3);
  } finally {
    clearInterval(sampler);
    window.stopMs = performance.now();
    await server.stop();
  }
  const file = fs.readdirSync(profDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const profile = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile;
  if (env.PROFILE_KEEP) {
    fs.mkdirSync(env.PROFILE_KEEP, { recursive: true });
    fs.copyFileSync(path.join(profDir, file), path.join(env.PROFILE_KEEP, file));
  }
  fs.rmSync(profDir, { recursive: true, force: true });
  const { totalUs, areas, functions, stages } = analyse(profile, window);
  console.log(`\nSelf time by area (measured window only; ${(totalUs / 1e6).toFixed(1)} s sampled):`);
  console.log(table(areas, totalUs));
  console.log('\nInclusive time of the bridge stages:');
  console.log(table(stages, totalUs));
  console.log('\nTop 30 functions by self time:');
  console.log(table(functions, totalUs, 30));
  const step = Math.max(1, Math.floor(rss.length / 12));
  console.log(
    `\nRSS (MB) every ${step * 0.5} s: ${rss
      .filter((_, i) => i % step === 0)
      .map((mb) => mb.toFixed(0))
      .join(' ')}; peak ${peakMb.toFixed(1)}`,
  );
  console.log(`Last GCs (heap used MB (committed) -> after):\n${gcTail.join('\n')}`);
}

/** Asks the host for a heap snapshot and prints the largest holders by constructor. */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  for (let waited = 0; waited < 120_000 && !file; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const found = fs.readdirSync(dir).find((name) => name.endsWith('.heapsnapshot'));
    // Written once its size stops changing.
    if (found) {
      const size = fs.statSync(path.join(dir, found)).size;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (size > 0 && fs.statSync(path.join(dir, found)).size === size) file = found;
    }
  }
  if (!file) throw new Error('no heap snapshot written');
  const snapshot = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const bySize = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] as number] ?? '?';
    const name =
      type === 'object' || type === 'closure'
        ? (snapshot.strings[snapshot.nodes[i + nameAt] as number] ?? '?')
        : `(${type})`;
    const size = snapshot.nodes[i + sizeAt] as number;
    total += size;
    const entry = bySize.get(name) ?? { size: 0, count: 0 };
    entry.size += size;
    entry.count += 1;
    bySize.set(name, entry);
  }
  console.log(
    `\nHeap snapshot at the end of the window: ${(total / 1024 ** 2).toFixed(1)} MB in JS objects; largest by constructor:`,
  );
  for (const [name, { size, count }] of [...bySize.entries()]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, 25)) {
    console.log(
      `${(size / 1024 ** 2).toFixed(1).padStart(7)} MB ${String(count).padStart(9)}  ${name.slice(0, 80)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
