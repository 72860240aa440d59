/** Shared pieces of the admin e2e tests: polling with a bound, peak RSS of the host, keys. */
import * as fs from 'node:fs';
import type { AnyJson, Client } from './client';

/** Polls `probe` until `done` holds or `timeoutMs` passes; returns the last value (the caller asserts). */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await probe();
  }
  return value;
}

/** Peak resident set size of a process so far (VmHWM), in MiB; undefined where /proc is missing. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kib === undefined ? undefined : Math.round((Number(kib) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

/** A new key with `role`, made by the admin. */
export async function issueKey(admin: Client, role: 'user' | 'service' | 'admin'): Promise<string> {
  const response = await admin.post('/keys', { role, name: `${role} for admin e2e` });
  expect(response.status).toBe(201);
  return response.body.key as string;
}

/** Every event of `subject` (and `types`), following the replay cursor to the end of the log. */
export async function eventsOf(api: Client, subject: string, types = 'user_update'): Promise<AnyJson[]> {
  const events: AnyJson[] = [];
  let after = '0';
  for (let pages = 0; pages < 1000; pages++) {
    const r = await api.get(
      `/events?after=${after}&subject=${encodeURIComponent(subject)}&types=${types}&limit=100`,
    );
    expect(r.status).toBe(200);
    events.push(...r.body.events);
    if (!r.body.next || r.body.next === after) break;
    after = r.body.next;
  }
  return events;
}
