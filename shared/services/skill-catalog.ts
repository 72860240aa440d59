import {
  buildSkillVocabulary,
  findSkillMentions,
  normalizeSkills,
  type NormalizedSkill,
  type SkillVocabulary,
} from '../domain/career/skills';
import type { TaxonomyIndex } from '../domain/job-titles';
import type { JobTitleService } from './job-title-service';

/**
 * The skill vocabulary of the taxonomy in use (built-in or imported), built once per taxonomy and
 * followed when an admin imports another one.
 */
export class SkillCatalog {
  private built: { index: TaxonomyIndex; vocabulary: SkillVocabulary } | undefined;

  constructor(private readonly titles: JobTitleService) {}

  async vocabulary(): Promise<{ index: TaxonomyIndex; vocabulary: SkillVocabulary }> {
    const { index } = await this.titles.index();
    if (this.built?.index !== index) {
      this.built = { index, vocabulary: buildSkillVocabulary(index.taxonomy.titles) };
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
