import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import { idempotencyKeyOf, meteredResponse } from '../shared/http/metered';
import { titleParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/**
 * get_market_intelligence (metered, BRIDGE_TOKEN_COST_MARKET): trend, volatility, forecast and risk
 * from the job-posting counts the bridge stores for the title (POST /api/market/postings); status
 * "insufficient-data" with the reason when there are too few consecutive periods. `?userId=` names
 * the user to charge.
 */
export const jobTitlesMarketGet = route('job-titles-market-get', {
  methods: ['GET'],
  route: 'job-titles/{title}/market',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'tokens:spend' },
  params: z.object({ title: titleParam }),
  query: z.object({ userId: userIdParam }),
  summary: 'get_market_intelligence (metered): trend, volatility, forecast and risk from stored postings',
  tags: ['job-titles'],
  handler: async ({ request, params, query, services, principal }) => {
    const { jobTitles, marketPostings } = services;
    const outcome = await services.metering.run({
      operation: 'market',
      userId: query.userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { params, query },
      subject: params.title,
      compute: async () => {
        const { titleId } = await jobTitles.titleIdOf(params.title);
        const series = await marketPostings.series(titleId);
        const intelligence = await jobTitles.market(params.title, series.points);
        return toJsonObject({
          ...intelligence,
          series: {
            granularity: series.granularity,
            from: series.points[0]?.period ?? null,
            to: series.points[series.points.length - 1]?.period ?? null,
            points: series.points,
            storedPeriods: series.storedPeriods,
            excludedPeriods: series.excludedPeriods,
          },
        });
      },
    });
    return meteredResponse('market', query.userId, outcome);
  },
});
