import { app } from '@azure/functions';
import type { JsonValue } from '../shared/ports/document-store';
import { chargeAndRecord, meteredResponse, queryUserId, titleParam } from '../shared/http/metered';
import { route } from '../shared/http/route';

/**
 * get_title_relationships (metered, BRIDGE_TOKEN_COST_RELATIONSHIPS): related titles with their kind
 * (alias, progression, lateral, related, same family …) and strength. `?userId=` names the user to charge.
 */
export const relationshipsGet = route({ roles: ['admin', 'user', 'service'] }, async (args) => {
  const title = titleParam(args.request);
  const userId = queryUserId(args.request);
  const relationships = await args.services.jobTitles.relationships(title);
  const outcome = await chargeAndRecord(
    args,
    'relationships',
    userId,
    title,
    relationships as unknown as JsonValue,
  );
  return meteredResponse('relationships', userId, outcome);
});

app.http('relationships-get', {
  methods: ['GET'],
  route: 'job-titles/{title}/relationships',
  authLevel: 'anonymous',
  handler: relationshipsGet,
});
