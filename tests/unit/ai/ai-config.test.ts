import { ConfigError, loadConfig } from '../../../shared/config';

const base = { BRIDGE_ADMIN_KEY: 'x'.repeat(32) };
const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('AI settings', () => {
  it('defaults: the seed order, no provider configured, the issue thresholds, uniform priors', () => {
    const { ai, analysis } = loadConfig(base);
    expect(ai).toEqual({
      order: ['openai', 'gemini', 'groq', 'cloudflare', 'huggingface'],
      providers: [],
      timeoutMs: 30_000,
      failureThreshold: 3,
      rateLimitThreshold: 3,
      cooldownMs: 300_000,
    });
    expect(analysis.rolePriors).toEqual({ default: { alpha: 1, beta: 1 } });
  });

  it('a provider with a key and a model is configured, with its default base URL', () => {
    const { ai } = loadConfig({
      ...base,
      AI_PROVIDER_ORDER: 'groq, azure-openai ,heuristic,groq',
      AI_GROQ_API_KEY: 'gsk',
      AI_GROQ_MODEL: 'llama-3.3-70b-versatile',
      AI_AZURE_OPENAI_BASE_URL: 'https://res.openai.azure.com/openai/v1/',
      AI_AZURE_OPENAI_API_KEY_SECRET: 'azure-openai-key',
      AI_AZURE_OPENAI_MODEL: 'gpt-4o-mini-deployment',
      AI_COOLDOWN_SECONDS: '60',
    });
    expect(ai.order).toEqual(['groq', 'azure-openai']);
    expect(ai.cooldownMs).toBe(60_000);
    expect(ai.providers).toEqual([
      {
        name: 'azure-openai',
        baseUrl: 'https://res.openai.azure.com/openai/v1/',
        model: 'gpt-4o-mini-deployment',
        apiKeySecret: 'azure-openai-key',
      },
      {
        name: 'groq',
        baseUrl: 'https://api.groq.com/openai/v1',
        model: 'llama-3.3-70b-versatile',
        apiKey: 'gsk',
      },
    ]);
  });

  it.each<[string, Record<string, string>, string, RegExp]>([
    [
      'an unknown provider in the order',
      { AI_PROVIDER_ORDER: 'openai,mistral' },
      'AI_PROVIDER_ORDER',
      /mistral/,
    ],
    ['a key without a model', { AI_OPENAI_API_KEY: 'sk' }, 'AI_OPENAI_MODEL', /required/],
    ['a model without a key', { AI_GEMINI_MODEL: 'g' }, 'AI_GEMINI_API_KEY', /required/],
    [
      'a key and a secret name',
      { AI_GROQ_API_KEY: 'k', AI_GROQ_API_KEY_SECRET: 'k', AI_GROQ_MODEL: 'm' },
      'AI_GROQ_API_KEY_SECRET',
      /either/,
    ],
    [
      'no base URL where there is no default',
      { AI_CLOUDFLARE_API_KEY: 'k', AI_CLOUDFLARE_MODEL: '@cf/m' },
      'AI_CLOUDFLARE_BASE_URL',
      /required/,
    ],
    ['a base URL that is not http(s)', { AI_OPENAI_BASE_URL: 'ftp://x' }, 'AI_OPENAI_BASE_URL', /http/],
    [
      'a secret name Key Vault would refuse',
      { AI_OPENAI_API_KEY_SECRET: 'bad_name' },
      'AI_OPENAI_API_KEY_SECRET',
      /secret name/,
    ],
    ['a zero failure threshold', { AI_FAILURE_THRESHOLD: '0' }, 'AI_FAILURE_THRESHOLD', /./],
    ['priors that are not JSON', { BRIDGE_BAYES_PRIORS: '{oops' }, 'BRIDGE_BAYES_PRIORS', /not valid JSON/],
    [
      'a prior with a negative beta',
      { BRIDGE_BAYES_PRIORS: '{"tech":{"alpha":2,"beta":-1}}' },
      'BRIDGE_BAYES_PRIORS',
      /tech/,
    ],
  ])('fails fast on %s, naming the setting', (_name, env, setting, message) => {
    const found = problems(env);
    expect(found).toEqual(expect.arrayContaining([{ setting, message: expect.stringMatching(message) }]));
  });

  it('parses BRIDGE_BAYES_PRIORS into priors per family', () => {
    const { analysis } = loadConfig({
      ...base,
      BRIDGE_BAYES_PRIORS: '{"Software-Engineering": {"alpha": 4, "beta": 2}}',
    });
    expect(analysis.rolePriors).toEqual({
      default: { alpha: 1, beta: 1 },
      'software-engineering': { alpha: 4, beta: 2 },
    });
  });
});
