import { assessRoleFit } from '../../shared/domain/analysis/bayesian';
import { geographicOutcome, type Gazetteer } from '../../shared/domain/analysis/geo';
import { heuristicComprehensive } from '../../shared/domain/analysis/heuristic';
import { describeRole } from '../../shared/domain/analysis/role-catalog';
import {
  analyzeJobTitle,
  generateWordCloud,
  getCareerPathways,
  getMarketIntelligence,
  getTitleRelationships,
  normalizeTitle,
  renderWordCloudSvg,
  type TaxonomyIndex,
} from '../../shared/domain/job-titles';
import type { ComputeWorker } from '../../shared/ports/compute-worker';

/**
 * The compute worker's computations in this thread, over the given reference data (a small test
 * gazetteer, a given taxonomy): for unit tests of the services that use them. The taxonomy named by
 * a TaxonomyRef is ignored; `taxonomy` answers every task.
 */
export function inProcessCompute(data: {
  gazetteer?: () => Gazetteer;
  taxonomy?: () => TaxonomyIndex;
}): ComputeWorker {
  const taxonomy = (): TaxonomyIndex => {
    if (!data.taxonomy) throw new Error('no taxonomy given to the in-process compute worker');
    return data.taxonomy();
  };
  return {
    wordCloud: async (_ref, titles, options) => {
      const cloud = generateWordCloud(taxonomy(), titles, options);
      return { ...cloud, svg: renderWordCloudSvg(cloud.terms) };
    },
    normalizeTitles: async (_ref, titles) =>
      titles.map((title) => {
        const match = normalizeTitle(taxonomy(), title);
        return { titleId: match.known ? match.titleId : null, normalizedTitle: match.normalizedTitle };
      }),
    analyzeTitle: async (_ref, title, context) => analyzeJobTitle(taxonomy(), title, context),
    pathways: async (_ref, title, options) => getCareerPathways(taxonomy(), title, options),
    relationships: async (_ref, title, options) => getTitleRelationships(taxonomy(), title, options),
    market: async (_ref, title, series, options) => getMarketIntelligence(taxonomy(), title, series, options),
    describeTaxonomy: async () => {
      const index = taxonomy();
      return { name: index.taxonomy.name, version: index.taxonomy.version, stats: { ...index.stats } };
    },
    titleSkills: async () => taxonomy().taxonomy.titles.map((t) => [...t.skills]),
    describeRole: async (_ref, role) => describeRole(taxonomy(), role),
    heuristic: async (request, role, priors) => heuristicComprehensive(request, role, priors),
    geographic: async (query) => {
      if (!data.gazetteer) throw new Error('no gazetteer given to the in-process compute worker');
      return geographicOutcome(data.gazetteer(), query);
    },
    roleFit: async (input, priors) => assessRoleFit(input, priors),
    close: async () => undefined,
  };
}
