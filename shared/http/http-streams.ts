import { app } from '@azure/functions';

/**
 * HTTP streams for the whole app (@azure/functions ≥ 4.3, Functions host ≥ 4.28): the host then
 * proxies each HTTP request to the worker and streams response bodies instead of buffering them,
 * which GET /api/events/stream needs. It must be set before the worker starts, once per worker:
 * every HTTP function file imports route.ts, which imports this module (evaluated once). The local
 * host streams on its own and ignores the flag; an older Functions host makes `setup` throw, and
 * the worker fails loudly rather than buffering a stream forever.
 */
app.setup({ enableHttpStream: true });
