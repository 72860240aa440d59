import { sectionLines } from '../domain/career/resume';
import { candidateView, type CandidateView } from '../domain/career/candidate';
import type { TaxonomyIndex } from '../domain/job-titles';
import { profileSkills } from './profile-skills-service';
import type { ResumeService } from './resume-service';
import type { SkillCatalog } from './skill-catalog';
import type { SyncService } from './sync-service';

/** A user as the career services see them: the profile and the latest resume, read together. */
export class CandidateService {
  constructor(private readonly deps: { sync: SyncService; resumes: ResumeService; skills: SkillCatalog }) {}

  async view(
    userId: string,
    options: { title?: string } = {},
  ): Promise<{ candidate: CandidateView; index: TaxonomyIndex; hasResume: boolean; hasProfile: boolean }> {
    const [{ index }, profile, latest] = await Promise.all([
      this.deps.skills.vocabulary(),
      this.deps.sync.get(userId),
      this.deps.resumes.latest(userId),
    ]);
    const normalized = await this.deps.skills.normalize(profileSkills(profile?.data));
    const resume = latest?.resume;
    const sections = resume
      ? { header: resume.sections.header, sections: resume.sections.sections, skillItems: [] }
      : undefined;
    const candidate = candidateView(index, {
      userId,
      profile: profile?.data,
      profileSkills: normalized.map((s) => s.skill),
      resume:
        resume && sections
          ? {
              id: resume.id,
              skills: resume.skills,
              experienceLines: sectionLines(sections, 'experience'),
              educationLines: sectionLines(sections, 'education'),
            }
          : undefined,
      ...(options.title !== undefined ? { title: options.title } : {}),
    });
    return { candidate, index, hasResume: resume !== undefined, hasProfile: profile !== undefined };
  }
}
