/**
 * get_market_intelligence: the market trend of one title's job-posting series, with the title
 * normalised against the taxonomy. The caller supplies the series (oldest first, evenly spaced);
 * see market-trend.ts for the maths and the minimum number of points.
 */
import {
  analyzeMarketTrend,
  type MarketTrend,
  type MarketTrendOptions,
  type SeriesPoint,
} from './market-trend';
import { normalizeTitle, type NormalizeOptions, type TitleMatch } from './normalize';
import type { TaxonomyIndex } from './taxonomy';

export interface MarketIntelligenceOptions extends MarketTrendOptions, NormalizeOptions {}

export interface MarketIntelligence {
  input: string;
  match: TitleMatch;
  known: boolean;
  titleId: string | null;
  title: string;
  family: string | null;
  market: MarketTrend;
}

export function getMarketIntelligence(
  index: TaxonomyIndex,
  title: string,
  series: readonly number[] | readonly SeriesPoint[],
  options: MarketIntelligenceOptions = {},
): MarketIntelligence {
  const match = normalizeTitle(index, title, options);
  return {
    input: title,
    match,
    known: match.known,
    titleId: match.titleId,
    title: match.normalizedTitle,
    family: match.family,
    market: analyzeMarketTrend(series, options),
  };
}
