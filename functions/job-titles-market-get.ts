import { app } from '@azure/functions';
import type { JsonValue } from '../shared/ports/document-store';
import { chargeAndRecord, meteredResponse, queryUserId, titleParam } from '../shared/http/metered';
import { route } from '../shared/http/route';

/**
 * get_market_intelligence (metered, BRIDGE_TOKEN_COST_MARKET): trend, volatility, forecast and risk
 * from the job-posting counts the bridge stores for the title (POST /api/market/postings); status
 * "insufficient-data" with the reason when there are too few consecutive periods. `?userId=` names
 * the user to charge.
 */
export const marketGet = route({ roles: ['admin', 'user', 'service'] }, async (args) => {
  const title = titleParam(args.request);
  const userId = queryUserId(args.request);
  const { jobTitles, marketPostings } = args.services;
  const { titleId } = await jobTitles.titleIdOf(title);
  const series = await marketPostings.series(titleId);
  const intelligence = await jobTitles.market(title, series.points);
  const result = {
    ...intelligence,
    series: {
      granularity: series.granularity,
      from: series.points[0]?.period ?? null,
      to: series.points[series.points.length - 1]?.period ?? null,
      points: series.points,
      storedPeriods: series.storedPeriods,
      excludedPeriods: series.excludedPeriods,
    },
  };
  const outcome = await chargeAndRecord(args, 'market', userId, title, result as unknown as JsonValue);
  return meteredResponse('market', userId, outcome);
});

app.http('market-get', {
  methods: ['GET'],
  route: 'job-titles/{title}/market',
  authLevel: 'anonymous',
  handler: marketGet,
});
