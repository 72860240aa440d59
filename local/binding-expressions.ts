/** Resolves `%SETTING%` binding expressions the way the Functions host does, from the environment. */
export function resolveBindingExpression(
  value: unknown,
  env: NodeJS.ProcessEnv,
  defaults: Record<string, string> = {},
): string {
  return String(value ?? '').replace(/%([A-Za-z0-9_]+)%/g, (_, name: string) => {
    const resolved = env[name]?.trim() || defaults[name];
    if (resolved === undefined) throw new Error(`binding expression %${name}% has no value: set ${name}`);
    return resolved;
  });
}
