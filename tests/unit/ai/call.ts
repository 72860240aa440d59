/** Calls a function handler with a test-mode HttpRequest (as tests/unit/handlers does). */
import { invokeHandler } from '../../helpers/invoke-handler';
import { type HttpHandler } from '@azure/functions';
import { TEST_ADMIN_KEY } from '../../helpers/test-services';

export interface Call {
  method?: string;
  key?: string;
  body?: unknown;
  query?: Record<string, string>;
}

export async function call(
  handler: HttpHandler,
  { method = 'POST', key = TEST_ADMIN_KEY, body, query = {} }: Call = {},
) {
  const res = await invokeHandler(handler, { method, key, query, body });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, json: (res.raw ? JSON.parse(res.raw) : undefined) as any };
}
