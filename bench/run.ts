/**
 * The sync benchmark: `npm run bench`.
 *
 * autocannon against the local host's POST /api/users/{id}/sync at 100 and 500 connections, for one
 * hot user and for distinct users, interleaved in the same run with a bare node:http server that
 * parses the same JSON body and answers JSON (the floor on this machine). Each scenario gets a fresh
 * server process (so VmHWM is that scenario's peak RSS) and one autocannon run whose measured
 * window opens after the warm-up, once every connection has had an answer (see lib/load.ts). The
 * order within each repeat is bare, hot, distinct per connection level, so drift hits all alike.
 *
 * Settings (environment):
 *   BENCH_DURATION_S   seconds measured per scenario (default 10)
 *   BENCH_WARMUP_S     minimum seconds of warm-up per scenario, not measured (default 2)
 *   BENCH_RAMP_CAP_S   longest wait for every connection to have had an answer (default 15)
 *   BENCH_REPEATS      repeats of the whole sequence (default 3)
 *   BENCH_CONNECTIONS  comma-separated connection counts (default 100,500)
 *   BENCH_ACCESS_LOG   true: the host writes its access log (to a file); default false (off)
 *   BENCH_NODE_ARGS    extra node flags for every server process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`)
 *   BENCH_HOST_SCRIPT  another build's dist/local/main.js to run as the host (A/B against an earlier commit)
 *   BENCH_OUT          file to append the results section to (default bench/RESULTS.md); "none": don't
 *   BENCH_SCENARIOS    comma-separated: sync (the scenarios above), propagation (below), and the event
 *                      stream's sse-open, sse-closed, sse-storm (lib/sse.ts; `sse` = all three); default
 *                      sync,propagation,sse
 *   BENCH_PROPAGATION_CONNECTIONS  concurrent writers of the propagation scenario (default 100)
 *   BENCH_DRAIN_CAP_S  longest wait after a propagation window for every acknowledged event (default 30)
 *   BENCH_SSE_SUBSCRIBERS  SSE subscribers of the sse-* scenarios (default 100)
 *   BENCH_SSE_RATE     syncs per second of sse-open's open loop (default 1000)
 *   BENCH_SSE_WRITERS  closed-loop writers of sse-closed and sse-storm (default 100)
 *   BENCH_SSE_USERS    users sse-open writes to, round robin (default 1000)
 *   BENCH_SSE_DROPS    reconnects per subscriber in sse-storm (default 3)
 *   BENCH_SSE_WEBHOOK  false: sse-open and sse-closed without their webhook receiver (default true)
 *   BENCH_SSE_WEBHOOK_BATCH  1–100: that receiver's subscription takes batched deliveries of up to this
 *                      many events per POST (maxEventsPerBatch; default: one event per POST)
 * or flags: --out <file>, --no-out.
 *
 * The propagation scenario (lib/propagation.ts), per repeat and writer count: a fresh host with no
 * subscriber, then a fresh host with a webhook receiver (in this process) subscribed to user_update,
 * each under the same bounded loop of concurrent writers. It records sync acknowledged → webhook
 * received p50/p95/p99, lost, duplicated and conflicting event ids, and the ratio of sync throughput
 * with the subscriber to without.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requestsFor, runLoad, type Workload } from './lib/load';
import { runPropagation } from './lib/propagation';
import {
  runSse,
  SSE_SCENARIOS,
  sseChecks,
  sseMarkdown,
  sseText,
  type SseRow,
  type SseScenario,
} from './lib/sse';
import {
  markdownSection,
  propagationChecks,
  propagationMarkdown,
  propagationRunsText,
  propagationSummaryText,
  runsText,
  summarise,
  summarisePropagation,
  summaryText,
  targetChecks,
  type PropagationRow,
  type RunRow,
} from './lib/report';
import { killAll, startServer, type ServerChild } from './lib/servers';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_OUT = path.join(PROJECT_ROOT, 'bench', 'RESULTS.md');
const WORKLOADS: Workload[] = ['bare', 'hot', 'distinct'];

function wholeNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return value;
}

function outFile(): string | undefined {
  const args = process.argv.slice(2);
  if (args.includes('--no-out')) return undefined;
  const flag = args.indexOf('--out');
  const chosen = flag >= 0 ? args[flag + 1] : process.env.BENCH_OUT;
  if (chosen === undefined || chosen.trim() === '') return DEFAULT_OUT;
  return chosen === 'none' ? undefined : path.resolve(chosen);
}

const config = {
  durationS: Math.max(1, wholeNumber('BENCH_DURATION_S', 10)),
  warmupS: wholeNumber('BENCH_WARMUP_S', 2),
  rampCapS: wholeNumber('BENCH_RAMP_CAP_S', 15),
  repeats: Math.max(1, wholeNumber('BENCH_REPEATS', 3)),
  connections: (process.env.BENCH_CONNECTIONS ?? '100,500')
    .split(',')
    .map((c) => Math.max(1, Number(c.trim()) || 1)),
  accessLog: ['true', '1', 'yes', 'on'].includes((process.env.BENCH_ACCESS_LOG ?? 'false').toLowerCase()),
  out: outFile(),
  scenarios: (process.env.BENCH_SCENARIOS ?? 'sync,propagation,sse')
    .split(',')
    .map((s) => s.trim())
    .flatMap((s) => (s === 'sse' ? [...SSE_SCENARIOS] : [s])),
  propagationConnections: (process.env.BENCH_PROPAGATION_CONNECTIONS ?? '100')
    .split(',')
    .map((c) => Math.max(1, Number(c.trim()) || 1)),
  drainCapS: Math.max(1, wholeNumber('BENCH_DRAIN_CAP_S', 30)),
  sseSubscribers: Math.max(1, wholeNumber('BENCH_SSE_SUBSCRIBERS', 100)),
  sseRate: Math.max(1, wholeNumber('BENCH_SSE_RATE', 1000)),
  sseWriters: Math.max(1, wholeNumber('BENCH_SSE_WRITERS', 100)),
  sseUsers: Math.max(1, wholeNumber('BENCH_SSE_USERS', 1000)),
  sseDrops: wholeNumber('BENCH_SSE_DROPS', 3),
  sseWebhook: process.env.BENCH_SSE_WEBHOOK !== 'false',
  sseWebhookBatch: process.env.BENCH_SSE_WEBHOOK_BATCH
    ? Math.min(100, Math.max(1, wholeNumber('BENCH_SSE_WEBHOOK_BATCH', 1)))
    : undefined,
};

/** A user-portal key issued by the host's bootstrap admin key: the path a portal's request takes. */
async function issueUserKey(server: ServerChild): Promise<string> {
  const res = await fetch(`${server.origin}${server.prefix}/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': server.adminKey },
    body: JSON.stringify({ role: 'user', name: 'bench user portal' }),
  });
  if (res.status !== 201) throw new Error(`issuing a bench key failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

/** What the host itself counted: the hot user's version, or every sync for distinct users. */
async function serverWrites(server: ServerChild, workload: Workload, tag: string): Promise<number> {
  const headers = { 'x-api-key': server.adminKey };
  if (workload === 'hot') {
    const res = await fetch(`${server.origin}${server.prefix}/users/hot-${tag}`, { headers });
    return res.status === 200 ? ((await res.json()) as { version: number }).version : 0;
  }
  const res = await fetch(`${server.origin}${server.prefix}/metrics`, { headers });
  return ((await res.json()) as { syncCount: number }).syncCount;
}

async function scenario(repeat: number, workload: Workload, connections: number): Promise<RunRow> {
  const server = await startServer(workload === 'bare' ? 'bare' : 'host', { accessLog: config.accessLog });
  try {
    const headers: Record<string, string> =
      workload === 'bare' ? {} : { 'x-api-key': await issueUserKey(server) };
    const tag = `r${repeat}c${connections}`;
    const load = await runLoad({
      origin: server.origin,
      requests: requestsFor(workload, server.prefix, tag),
      connections,
      headers,
      warmupS: config.warmupS,
      rampCapS: config.rampCapS,
      durationS: config.durationS,
      serverCpuMs: () => server.cpuMs(),
    });
    const peakRssBytes = server.peakRssBytes();
    const row: RunRow = { repeat, workload, connections, ...load, peakRssBytes };
    if (workload !== 'bare') row.serverWrites = await serverWrites(server, workload, tag);
    return row;
  } finally {
    await server.stop();
  }
}

/** One propagation run on a fresh host: with or without a webhook subscriber. */
async function propagationScenario(
  repeat: number,
  connections: number,
  subscribe: boolean,
): Promise<PropagationRow> {
  const server = await startServer('host', { accessLog: config.accessLog });
  try {
    const result = await runPropagation({
      origin: server.origin,
      prefix: server.prefix,
      adminKey: server.adminKey,
      writerKey: await issueUserKey(server),
      connections,
      warmupS: config.warmupS,
      durationS: config.durationS,
      subscribe,
      drainCapS: config.drainCapS,
      tag: `r${repeat}c${connections}${subscribe ? 's' : 'n'}`,
    });
    return { ...result, repeat, connections, peakRssBytes: server.peakRssBytes() };
  } finally {
    await server.stop();
  }
}

/** One event-stream run on a fresh host (lib/sse.ts). */
async function sseScenario(repeat: number, scenario: SseScenario): Promise<SseRow> {
  const server = await startServer('host', { accessLog: config.accessLog });
  try {
    const result = await runSse({
      scenario,
      origin: server.origin,
      prefix: server.prefix,
      adminKey: server.adminKey,
      writerKey: await issueUserKey(server),
      subscribers: config.sseSubscribers,
      rate: config.sseRate,
      writers: config.sseWriters,
      users: config.sseUsers,
      warmupS: config.warmupS,
      durationS: config.durationS,
      drainCapS: config.drainCapS,
      drops: config.sseDrops,
      webhook: config.sseWebhook && scenario !== 'sse-storm',
      ...(config.sseWebhookBatch !== undefined ? { webhookBatch: config.sseWebhookBatch } : {}),
      tag: `r${repeat}${scenario}`,
    });
    return { ...result, repeat, peakRssBytes: server.peakRssBytes() };
  } finally {
    await server.stop();
  }
}

function describeMachine(): string {
  const cpus = os.cpus();
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} × ${cpus.length}, ${memGiB} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

function describeCommand(): string {
  const env = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_'))
    .map(([name, value]) => `${name}=${value}`);
  const runner = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node dist/bench/run.js';
  return [...env, runner, ...process.argv.slice(2)].join(' ');
}

async function main(): Promise<void> {
  const smoke = config.durationS < 10 || config.repeats < 3;
  const order = config.connections.map((c) => WORKLOADS.map((w) => `${w}@${c}`).join(', ')).join(', ');
  const settings = [
    `${config.durationS} s measured per scenario, after at least ${config.warmupS} s of warm-up and once every`,
    `connection had an answer (at most ${config.rampCapS} s); ${config.repeats} repeat(s); order per repeat: ${order};`,
    'loopback 127.0.0.1, pipelining 1, ~100-byte JSON body with new values in every request, user-role key;',
    'a fresh server process (and data dir) per scenario; host access log',
    `${config.accessLog ? 'on (to a file)' : 'off'}; peak RSS = VmHWM of the server process.`,
  ].join(' ');
  console.log(
    `Portal Bridge sync benchmark${smoke ? ' (SMOKE RUN)' : ''}\n${describeMachine()}\n` +
      `${config.scenarios.includes('sync') ? settings : `scenarios: ${config.scenarios.join(', ')}`}\n`,
  );

  const rows: RunRow[] = [];
  const propagationRows: PropagationRow[] = [];
  const sseRows: SseRow[] = [];
  for (let repeat = 1; repeat <= config.repeats; repeat++) {
    if (config.scenarios.includes('sync')) {
      for (const connections of config.connections) {
        for (const workload of WORKLOADS) {
          const row = await scenario(repeat, workload, connections);
          rows.push(row);
          console.log(
            `repeat ${repeat} ${workload.padEnd(8)} @ ${String(connections).padStart(3)}: ${row.reqPerSec.toFixed(0)} req/s, ` +
              `p99 ${row.p99.toFixed(1)} ms, ramp ${row.rampS?.toFixed(1) ?? '–'} s, peak RSS ${(row.peakRssBytes / 1024 ** 2).toFixed(1)} MB, non-2xx ${row.non2xx}, errors ${row.errors}`,
          );
        }
      }
    }
    if (config.scenarios.includes('propagation')) {
      for (const connections of config.propagationConnections) {
        for (const subscribe of [false, true]) {
          const row = await propagationScenario(repeat, connections, subscribe);
          propagationRows.push(row);
          const events = subscribe
            ? `; propagation p50 ${row.propP50?.toFixed(1)} p95 ${row.propP95?.toFixed(1)} p99 ${row.propP99?.toFixed(1)} ms, ` +
              `lost ${row.lost}, duplicated ${row.duplicated}, conflicting ${row.conflicting}, drain ${row.drainS?.toFixed(1)} s`
            : '';
          console.log(
            `repeat ${repeat} events ${subscribe ? 'webhook' : 'no sub '} @ ${String(connections).padStart(3)}: ` +
              `${row.reqPerSec.toFixed(0)} req/s, ${row.measured} measured syncs, non-2xx ${row.non2xx}, errors ${row.errors}${events}`,
          );
        }
      }
    }
    for (const scenario of SSE_SCENARIOS.filter((s) => config.scenarios.includes(s))) {
      const row = await sseScenario(repeat, scenario);
      sseRows.push(row);
      console.log(
        `repeat ${repeat} ${scenario}: ${row.reqPerSec.toFixed(0)} syncs/s, ${row.pairs} pairs, p50 ${row.p50.toFixed(1)} ` +
          `p95 ${row.p95.toFixed(1)} p99 ${row.p99.toFixed(1)} ms, lost ${row.lost}, dup ${row.duplicated}, ` +
          `peak RSS ${((row.peakRssBytes ?? 0) / 1024 ** 2).toFixed(1)} MB`,
      );
    }
  }

  const summary = summarise(rows);
  if (rows.length > 0) {
    console.log(`\nEvery run:\n${runsText(rows)}\n\nMedians:\n${summaryText(summary)}\n`);
    for (const line of targetChecks(summary)) console.log(line);
  }
  const propagationSummary = summarisePropagation(propagationRows);
  const propagationSettings = [
    `${config.durationS} s measured per run after ${config.warmupS} s of warm-up; ${config.repeats} repeat(s);`,
    `${config.propagationConnections.join(', ')} concurrent writers (keep-alive node:http, one user each, user-role key),`,
    'each run on a fresh host with default settings: first without a subscriber, then with a webhook receiver in the',
    'bench process subscribed to user_update (every delivery signature-verified); ack = the sync answer fully read;',
    `drain after each window at most ${config.drainCapS} s, then 1 s more for late duplicates; loopback 127.0.0.1.`,
  ].join(' ');
  if (propagationRows.length > 0) {
    console.log(
      `\nEvent propagation, every run:\n${propagationRunsText(propagationRows)}\n\n` +
        `Medians:\n${propagationSummaryText(propagationSummary)}\n`,
    );
    for (const line of propagationChecks(propagationSummary)) console.log(line);
  }

  const sseSettings = [
    `${config.durationS} s measured per run after ${config.warmupS} s of warm-up; ${config.repeats} repeat(s); each run on a`,
    `fresh host with default settings; ${config.sseSubscribers} subscribers on GET /api/events/stream?types=user_update`,
    `(admin key) on a worker thread of the bench process (the writers on its main thread), all live before the first write;`,
    `sse-open: an open loop of ${config.sseRate}`,
    `syncs/s over ${config.sseUsers} users; sse-closed and sse-storm: ${config.sseWriters} closed-loop writers (keep-alive`,
    `node:http, user-role key); sse-storm: every subscriber drops and reconnects with Last-Event-ID ${config.sseDrops}`,
    `times at random moments; ack = the sync answer fully read; drain at most ${config.drainCapS} s; loopback 127.0.0.1.`,
    config.sseWebhook
      ? "sse-open and sse-closed also subscribe a webhook receiver (Standard Webhooks verified, on the writers' thread) to user_update" +
        (config.sseWebhookBatch !== undefined
          ? `, with batched deliveries of up to ${config.sseWebhookBatch} events per POST (BENCH_SSE_WEBHOOK_BATCH).`
          : ', one event per POST.')
      : 'No webhook receiver (BENCH_SSE_WEBHOOK=false).',
  ].join(' ');
  if (sseRows.length > 0) {
    console.log(`\nEvent stream, every run:\n${sseText(sseRows)}\n`);
    for (const line of sseChecks(sseRows)) console.log(line);
  }

  if (config.out) {
    const info = {
      date: new Date().toISOString(),
      command: describeCommand(),
      machine: describeMachine(),
      settings,
      smoke,
    };
    if (!fs.existsSync(config.out)) {
      fs.writeFileSync(
        config.out,
        [
          '# Portal Bridge benchmark results',
          '',
          'One section per `npm run bench` run, newest last; sections marked SMOKE RUN are short checks, not results.',
          'How it runs: see `bench/run.ts` and `bench/lib/load.ts`. Each scenario is measured only once every',
          'connection has had an answer ("ramp s"; at most BENCH_RAMP_CAP_S): Node accepts one new connection per',
          'event-loop turn, so a server busy with the first connections brings the rest online slowly, and measuring',
          'from the start would measure that ramp with fewer connections than asked. "online" is how many',
          'connections had been answered when the window opened.',
          '',
          '',
        ].join('\n'),
      );
    }
    const extra =
      (propagationRows.length > 0
        ? propagationMarkdown(propagationSettings, propagationRows, propagationSummary)
        : '') + (sseRows.length > 0 ? sseMarkdown(sseSettings, sseRows) : '');
    fs.appendFileSync(config.out, `${markdownSection(info, rows, summary, extra)}\n`);
    console.log(`\nAppended to ${config.out}`);
  }
}

process.once('SIGINT', () => {
  killAll();
  process.exit(130);
});

main().catch((error: unknown) => {
  console.error(error);
  killAll();
  process.exit(1);
});
