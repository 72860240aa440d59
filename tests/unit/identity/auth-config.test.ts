/** The BRIDGE_AUTH_* settings: token auth is on with an issuer; URLs are https (http only on loopback). */
import { ConfigError, loadConfig } from '../../../shared/config';

const base = { BRIDGE_ADMIN_KEY: 'x'.repeat(32) };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.setting}: ${p.message}`);
  }
}

describe('token authentication settings', () => {
  it('are off without an issuer', () => {
    expect(loadConfig(base).auth.tokens).toBeUndefined();
  });

  it('with an issuer and an audience: on, with the documented defaults', () => {
    const config = loadConfig({
      ...base,
      BRIDGE_AUTH_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0',
      BRIDGE_AUTH_AUDIENCE: '11111111-2222-3333-4444-555555555555, api://bridge',
    });
    expect(config.auth.tokens).toEqual({
      issuer: 'https://login.microsoftonline.com/tenant/v2.0',
      audience: ['11111111-2222-3333-4444-555555555555', 'api://bridge'],
      userClaim: 'sub',
      clockSkewSeconds: 60,
      jwksCacheSeconds: 600,
      jwksCooldownSeconds: 30,
    });
  });

  it.each([
    [{ BRIDGE_AUTH_ISSUER: 'https://issuer.example' }, /^BRIDGE_AUTH_AUDIENCE: is required/],
    [{ BRIDGE_AUTH_JWKS_URL: 'https://issuer.example/keys' }, /^BRIDGE_AUTH_ISSUER: is required/],
    [{ BRIDGE_AUTH_AUDIENCE: 'api://x' }, /^BRIDGE_AUTH_ISSUER: is required/],
    [
      { BRIDGE_AUTH_ISSUER: 'http://issuer.example', BRIDGE_AUTH_AUDIENCE: 'a' },
      /^BRIDGE_AUTH_ISSUER: expected an https URL/,
    ],
    [
      {
        BRIDGE_AUTH_ISSUER: 'https://i.example',
        BRIDGE_AUTH_JWKS_URL: 'http://10.0.0.1/keys',
        BRIDGE_AUTH_AUDIENCE: 'a',
      },
      /^BRIDGE_AUTH_JWKS_URL: expected an https URL/,
    ],
    [{ BRIDGE_AUTH_ISSUER: 'ftp://issuer.example', BRIDGE_AUTH_AUDIENCE: 'a' }, /^BRIDGE_AUTH_ISSUER: /],
    [{ BRIDGE_AUTH_ISSUER: 'not a url', BRIDGE_AUTH_AUDIENCE: 'a' }, /^BRIDGE_AUTH_ISSUER: /],
    [{ BRIDGE_AUTH_USER_CLAIM: 'o-i-d' }, /^BRIDGE_AUTH_USER_CLAIM: /],
    [{ BRIDGE_AUTH_CLOCK_SKEW_SECONDS: '600' }, /^BRIDGE_AUTH_CLOCK_SKEW_SECONDS: /],
  ])('%j is refused, naming the setting', (env, message) => {
    expect(problems(env)).toEqual([expect.stringMatching(message)]);
  });

  it.each(['http://127.0.0.1:8080', 'http://localhost:9000/tenant', 'http://[::1]:1234'])(
    'plain http is accepted on loopback: %s',
    (issuer) => {
      expect(problems({ BRIDGE_AUTH_ISSUER: issuer, BRIDGE_AUTH_AUDIENCE: 'a' })).toEqual([]);
    },
  );
});
