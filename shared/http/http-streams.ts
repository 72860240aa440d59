import { app } from '@azure/functions';

/**
 * HTTP streams for the whole app (@azure/functions ≥ 4.3, Functions host ≥ 4.28): the host then
 * proxies each HTTP request to the worker and streams response bodies instead of buffering them,
 * which GET /api/events/stream needs. It must be set before the worker starts, once per worker:
 * every HTTP function file imports route.ts, which imports this module (evaluated once). An older
 * Functions host makes `setup` throw, and the worker fails loudly rather than buffer a stream forever.
 *
 * Only inside the Functions worker: it provides the `@azure/functions-core` module. The local host
 * and the tests stream natively and need no setup (which would only log that it is enabled).
 */
function insideFunctionsWorker(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
}

if (insideFunctionsWorker()) app.setup({ enableHttpStream: true });
