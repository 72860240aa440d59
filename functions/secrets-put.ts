import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { secretNameParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { secretPutSchema } from '../shared/services/secret-service';

/** Writes a secret: `{value}` → 204. Write-only: no route ever returns a value. */
export const secretsPut = route('secrets-put', {
  methods: ['PUT'],
  route: 'secrets/{name}',
  access: { roles: ['admin'], scope: 'secrets' },
  params: z.object({ name: secretNameParam }),
  body: secretPutSchema,
  summary: 'Write a secret (write-only)',
  tags: ['secrets'],
  handler: async ({ params, body, services }) => {
    await services.secrets.put(params.name, body.value);
    return noContent();
  },
});
