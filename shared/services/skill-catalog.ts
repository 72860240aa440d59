import {
  buildSkillVocabulary,
  findSkillMentions,
  normalizeSkills,
  type NormalizedSkill,
  type SkillVocabulary,
} from '../domain/career/skills';
import { buildTaxonomyIndex, type TaxonomyIndex } from '../domain/job-titles/taxonomy';
import type { Taxonomy } from '../domain/job-titles';
import { BUILT_IN_TAXONOMY_KEY, type TaxonomyRef } from '../ports/compute-worker';
import type { BuiltInTaxonomySource } from '../ports/reference-data';
import type { JobTitleService } from './job-title-service';

/**
 * The skill vocabulary of the taxonomy in use (built-in or imported), built once per taxonomy and
 * followed when an admin imports another one.
 */
export class SkillCatalog {
  private built: { ref: TaxonomyRef; index: TaxonomyIndex; vocabulary: SkillVocabulary } | undefined;

  constructor(
    private readonly titles: JobTitleService,
    private readonly builtIn: BuiltInTaxonomySource,
  ) {}

  /**
   * The career services match over an index of the taxonomy on this thread (unlike the job-title
   * routes, which run on the compute worker): built on first use per taxonomy generation.
   */
  async vocabulary(): Promise<{ index: TaxonomyIndex; vocabulary: SkillVocabulary }> {
    const ref = await this.titles.taxonomyRef();
    if (this.built?.ref !== ref) {
      const index =
        ref.key === BUILT_IN_TAXONOMY_KEY
          ? this.builtIn()
          : buildTaxonomyIndex(JSON.parse(ref.json()) as Taxonomy);
      this.built = { ref, index, vocabulary: buildSkillVocabulary(index.taxonomy.titles) };
    }
    return this.built;
  }

  async normalize(skills: readonly string[]): Promise<NormalizedSkill[]> {
    return normalizeSkills((await this.vocabulary()).vocabulary, skills);
  }

  async mentions(text: string): Promise<{ skill: string; count: number }[]> {
    return findSkillMentions((await this.vocabulary()).vocabulary, text);
  }
}
