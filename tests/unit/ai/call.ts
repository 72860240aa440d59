/** Calls a function handler with a test-mode HttpRequest (as tests/unit/handlers does). */
import { HttpRequest, InvocationContext, type HttpHandler, type HttpResponseInit } from '@azure/functions';
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
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const url = new URL('http://localhost/api/test');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const request = new HttpRequest({
    method,
    url: url.toString(),
    headers: {
      ...(key ? { 'x-api-key': key } : {}),
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(text !== undefined ? { body: { string: text } } : {}),
  });
  const response = (await handler(
    request,
    new InvocationContext({ functionName: 'test' }),
  )) as HttpResponseInit;
  const raw = typeof response.body === 'string' ? response.body : '';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status ?? 200, json: (raw ? JSON.parse(raw) : undefined) as any };
}
