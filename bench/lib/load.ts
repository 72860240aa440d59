/**
 * The load itself: autocannon (programmatic, in the bench process). One autocannon run per
 * scenario; the measured window starts only once the warm-up time has passed AND every connection
 * has had an answer, or the ramp cap has passed. Node accepts one new connection per event-loop turn,
 * and a turn of a server busy with its first connections is long, so the rest come online slowly; a
 * run that measured from the start would mostly measure that ramp, with far fewer connections than
 * asked.
 * Latencies of the window go into an HDR histogram at microsecond resolution.
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';

/** bare: the floor server; hot: every request to one user; distinct: every request a new user. */
export type Workload = 'bare' | 'hot' | 'distinct';

export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p97_5: number;
  p99: number;
  maxMs: number;
  /** Responses in the measured window. */
  total2xx: number;
  non2xx: number;
  /** Connection errors and timeouts in the measured window. */
  errors: number;
  /** Seconds from the start until every connection had an answer; undefined if that never happened. */
  rampS: number | undefined;
  /** Connections that had an answer when the window opened. */
  online: number;
  /** 2xx answers over the whole run, warm-up included (to compare with what the server counted). */
  all2xx: number;
  /** Server CPU time (user + system) per answered request in the window, µs; when `serverCpuMs` was given. */
  cpuUsPerRequest?: number;
}

/**
 * Requests for one workload. Every request carries new field values (a running counter), so every
 * sync really writes a new version; the distinct workload also names a new user each time.
 */
export function requestsFor(workload: Workload, prefix: string, tag: string): autocannon.Request[] {
  let n = 0;
  return [
    {
      setupRequest: (request) => {
        n += 1;
        const userId = workload === 'hot' ? `hot-${tag}` : `u-${tag}-${n}`;
        const body = JSON.stringify({
          data: { name: `User ${n}`, score: n, city: 'Leeds', tags: ['bench', tag] },
        });
        return { ...request, path: `${prefix}/users/${userId}/sync`, body };
      },
    },
  ];
}

export interface LoadOptions {
  origin: string;
  requests: autocannon.Request[];
  connections: number;
  headers: Record<string, string>;
  /** Minimum seconds before the measured window. */
  warmupS: number;
  /** Longest wait for every connection to come online before measuring anyway. */
  rampCapS: number;
  durationS: number;
  /** The server's CPU time so far (ms): the window's CPU per request is reported when given. */
  serverCpuMs?: () => number;
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  const online = new Set<unknown>();
  const started = performance.now();
  let rampS: number | undefined;
  let window:
    { start: number; end?: number; onlineAtStart: number; cpuStart?: number; cpuEnd?: number } | undefined;
  const counts = { ok: 0, non2xx: 0, errors: 0, all2xx: 0 };

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.origin,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        requests: options.requests,
        connections: options.connections,
        // An upper bound only: the run is stopped once the measured window closes.
        duration: options.rampCapS + options.durationS + 30,
        pipelining: 1,
        timeout: 10,
      },
      (error: unknown) => {
        clearInterval(timer);
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        if (!window) return reject(new Error('the load ended before its measured window opened'));
        const seconds = ((window.end ?? performance.now()) - window.start) / 1000;
        const ms = (micros: number) => micros / 1000;
        const answered = counts.ok + counts.non2xx;
        const cpu =
          window.cpuStart !== undefined && window.cpuEnd !== undefined && answered > 0
            ? ((window.cpuEnd - window.cpuStart) * 1000) / answered
            : undefined;
        resolve({
          ...(cpu !== undefined ? { cpuUsPerRequest: cpu } : {}),
          reqPerSec: (counts.ok + counts.non2xx) / seconds,
          p50: ms(histogram.getValueAtPercentile(50)),
          p97_5: ms(histogram.getValueAtPercentile(97.5)),
          p99: ms(histogram.getValueAtPercentile(99)),
          maxMs: ms(histogram.maxValue),
          total2xx: counts.ok,
          non2xx: counts.non2xx,
          errors: counts.errors,
          rampS,
          online: window.onlineAtStart,
          all2xx: counts.all2xx,
        });
      },
    );

    instance.on('response', (client, statusCode, _bytes, responseTime) => {
      const ok = statusCode >= 200 && statusCode < 300;
      if (ok) counts.all2xx += 1;
      if (!window) {
        online.add(client);
        if (rampS === undefined && online.size >= options.connections)
          rampS = (performance.now() - started) / 1000;
        return;
      }
      if (window.end !== undefined) return;
      if (ok) counts.ok += 1;
      else counts.non2xx += 1;
      histogram.recordValue(Math.max(1, Math.round(responseTime * 1000)));
    });
    instance.on('reqError', () => {
      if (window && window.end === undefined) counts.errors += 1;
    });

    const timer = setInterval(() => {
      const elapsedS = (performance.now() - started) / 1000;
      if (window || elapsedS < options.warmupS) return;
      if (rampS === undefined && elapsedS < options.rampCapS) return;
      const opened: {
        start: number;
        end?: number;
        onlineAtStart: number;
        cpuStart?: number;
        cpuEnd?: number;
      } = {
        start: performance.now(),
        onlineAtStart: online.size,
        ...(options.serverCpuMs ? { cpuStart: options.serverCpuMs() } : {}),
      };
      window = opened;
      setTimeout(() => {
        opened.end = performance.now();
        if (options.serverCpuMs) opened.cpuEnd = options.serverCpuMs();
        instance.stop();
      }, options.durationS * 1000);
    }, 50);
  });
}
