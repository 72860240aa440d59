/**
 * Request/answer over a worker thread, for the bench's helpers that run off the writers' thread
 * (lib/sse-subscribers.ts, lib/webhook-receiver-thread.ts). Each request is answered once, with
 * its result or its error's message.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** In the worker whose `role` this is (and nowhere else): builds the handler and answers each request. */
export function serveRequests<R>(role: string, start: () => (request: R) => Promise<unknown>): void {
  if (isMainThread || (workerData as { role?: string } | null)?.role !== role) return;
  const handle = start();
  parentPort?.on('message', (message: { id: number; request: R }) => {
    handle(message.request).then(
      (result) => parentPort?.postMessage({ id: message.id, result }),
      (error: unknown) => parentPort?.postMessage({ id: message.id, error: String(error) }),
    );
  });
}

/** The main thread's end: starts `file` (compiled JS) as a worker with `role` and asks it things. */
export class WorkerClient<R> {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(file: string, role: string) {
    this.worker = new Worker(file, { workerData: { role } });
    this.worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
    this.worker.on('error', (error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    });
  }

  ask<T>(request: R): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request });
    });
  }

  /** Sends `close` (its errors ignored), then ends the worker. */
  async close(closeRequest: R): Promise<void> {
    await this.ask(closeRequest).catch(() => undefined);
    await this.worker.terminate();
  }
}
