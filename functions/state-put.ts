import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { stateKeyParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { statePutSchema } from '../shared/http/schemas';

/** Writes a shared state entry; If-Match / If-None-Match: * make it conditional (412 otherwise). */
export const statePut = route('state-put', {
  methods: ['PUT'],
  route: 'state/{key}',
  access: { roles: ['admin', 'service'], scope: 'state:write' },
  params: z.object({ key: stateKeyParam }),
  body: statePutSchema,
  summary: 'Write a shared state entry (conditional with If-Match / If-None-Match: *)',
  tags: ['state'],
  handler: async ({ request, params, body, services }) => {
    const entry = await services.state.put(params.key, {
      value: body.value,
      ttlSeconds: body.ttlSeconds,
      ifMatch: request.headers.get('if-match') ?? undefined,
      ifNoneMatch: request.headers.get('if-none-match') ?? undefined,
    });
    const { etag, ...rest } = entry;
    return ok(rest, { etag });
  },
});
