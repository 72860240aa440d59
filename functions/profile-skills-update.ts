import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { MAX_SKILL_LENGTH } from '../shared/domain/career/skills';
import { assertMayActForUser } from '../shared/services/access-policy';

const skillList = z.array(z.string().trim().min(1).max(MAX_SKILL_LENGTH)).max(100);

const normalized = z.object({ input: z.string(), skill: z.string(), known: z.boolean() });

/**
 * Adds and removes profile skills, normalised against the taxonomy, as a sync of the `skills` field
 * through the merge rules (with its user_update event).
 */
export const profileSkillsUpdate = route('profile-skills-update', {
  methods: ['POST'],
  route: 'profile/{userId}/skills',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'users:write' },
  params: z.object({ userId: userIdParam }),
  body: z
    .strictObject({ add: skillList.optional(), remove: skillList.optional() })
    .refine(
      (b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) > 0,
      'name at least one skill to add or remove',
    ),
  summary: 'Add and remove profile skills (normalised), as a sync through the merge rules',
  tags: ['profile'],
  responses: {
    200: z.object({
      userId: z.string(),
      skills: z.array(z.string()),
      added: z.array(normalized),
      removed: z.array(normalized),
      sync: z.object({ version: z.number(), applied: z.array(z.string()) }).loose(),
    }),
  },
  handler: async ({ params, body, services, principal }) => {
    const { userId } = params;
    assertMayActForUser(principal, userId, 'change the skills');
    return ok(await services.profileSkills.update(userId, body, principal));
  },
});
