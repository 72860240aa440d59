import { app } from '@azure/functions';
import type { JsonValue } from '../shared/ports/document-store';
import { chargeAndRecord, meteredResponse, queryUserId, titleParam } from '../shared/http/metered';
import { route } from '../shared/http/route';

/**
 * get_career_pathways (metered, BRIDGE_TOKEN_COST_PATHWAYS): next roles, lateral moves, earlier roles
 * and promotion paths with curated typical years. `?userId=` names the user to charge.
 */
export const pathwaysGet = route({ roles: ['admin', 'user', 'service'] }, async (args) => {
  const title = titleParam(args.request);
  const userId = queryUserId(args.request);
  const pathways = await args.services.jobTitles.pathways(title);
  const outcome = await chargeAndRecord(args, 'pathways', userId, title, pathways as unknown as JsonValue);
  return meteredResponse('pathways', userId, outcome);
});

app.http('pathways-get', {
  methods: ['GET'],
  route: 'job-titles/{title}/pathways',
  authLevel: 'anonymous',
  handler: pathwaysGet,
});
