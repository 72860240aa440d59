import { app } from '@azure/functions';
import { STATE_KEY_PATTERN, STATE_KEY_RULE } from '../shared/domain/ids';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { statePutSchema } from '../shared/http/schemas';
import { checkedParam } from '../shared/http/validation';

/** Writes a shared state entry; If-Match / If-None-Match: * make it conditional (412 otherwise). */
export const statePut = route({ roles: ['admin', 'service'] }, async ({ request, services }) => {
  const key = checkedParam(request.params.key, 'key', STATE_KEY_PATTERN, STATE_KEY_RULE);
  const body = await readJsonBody(request, statePutSchema, services.config.http.maxBodyBytes);
  const entry = await services.state.put(key, {
    value: body.value,
    ttlSeconds: body.ttlSeconds,
    ifMatch: request.headers.get('if-match') ?? undefined,
    ifNoneMatch: request.headers.get('if-none-match') ?? undefined,
  });
  const { etag, ...rest } = entry;
  return ok(rest, { etag });
});

app.http('state-put', { methods: ['PUT'], route: 'state/{key}', authLevel: 'anonymous', handler: statePut });
