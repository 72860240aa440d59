import * as path from 'node:path';
import { DataFileError, ensurePrivateDir } from '../shared/adapters/embedded/private-files';
import { ConfigError, loadConfig } from '../shared/config';
import { disposeServices } from '../shared/container';
import { AccessLog } from './access-log';
import { findProjectRoot, startLocalHost, type LocalHost } from './host';
import { applyLocalSettingsFile, ensureLocalAdminKey } from './local-settings';

/**
 * `npm start`: settings, the data directory, the admin key, the local host, the banner and the
 * signals. Start-up failures end in one message naming the file or setting and the fix (exit 1),
 * never in a stack trace.
 */

class StartupError extends Error {}

function banner(
  host: LocalHost,
  dataDir: string,
  settingsFile: string | undefined,
  adminKey: ReturnType<typeof ensureLocalAdminKey>,
): string[] {
  const lines = [`Portal Bridge local host listening on ${host.url}`];
  if (settingsFile) lines.push(`  settings:  ${settingsFile} (environment variables take precedence)`);
  lines.push(`  data:      ${dataDir}`);
  lines.push(`  routes:    ${host.routes.all.map((r) => r.name).join(', ')}`);
  lines.push(`  triggers:  ${host.triggers.join(', ') || 'none'}`);
  // The key is shown once, when it is made; afterwards the banner says where it is, not what it is.
  if (adminKey.source === 'setting')
    lines.push('  admin key: BRIDGE_ADMIN_KEY (from the environment/settings)');
  else if (adminKey.source === 'generated')
    lines.push(
      `  admin key: ${adminKey.key}`,
      `             generated into ${adminKey.file} (mode 0600); shown this once`,
    );
  else lines.push(`  admin key: in ${adminKey.file} (mode 0600)`);
  lines.push(`  try:       curl -H "x-api-key: $(cat <admin key file>)" ${host.url}/metrics`);
  return lines;
}

async function main(): Promise<void> {
  // Everything the local host creates (store, bus, secrets, files) is private to this account.
  process.umask(0o077);
  const root = findProjectRoot(__dirname);
  const env = process.env;
  const settingsFile = applyLocalSettingsFile(root, env);
  const dataDir = path.resolve(env.BRIDGE_DATA_DIR?.trim() || '.data');
  env.BRIDGE_DATA_DIR = dataDir;
  ensurePrivateDir(dataDir);
  const adminKey = ensureLocalAdminKey(dataDir, env);
  // Locally, webhooks to this machine are the normal case (a portal on localhost).
  env.BRIDGE_WEBHOOK_ALLOW_PRIVATE ??= 'true';
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new StartupError(
        `${error.message}\nEvery setting is documented in README.md and local.settings.example.json.`,
      );
    throw error;
  }
  const accessLog = new AccessLog(config.localHost.accessLog);
  const host = await startLocalHost(root, config.localHost.port, accessLog);
  for (const line of banner(host, dataDir, settingsFile, adminKey)) console.log(line);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: stopping (in-flight requests finish first)`);
    await host.close();
    accessLog.flush();
    await disposeServices();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** One line for what went wrong and what to do; a stack trace only for the bridge's own bugs. */
function explain(error: unknown): string {
  if (error instanceof StartupError) return error.message;
  if (error instanceof DataFileError) return `${error.file} ${error.problem}.\nFix: ${error.fix}`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return `the port is in use (${(error as Error).message}). Set PORT to a free one (0 = any).`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR' || code === 'EEXIST')
    return `${(error as Error).message}. Check BRIDGE_DATA_DIR: it must be a directory this account may write.`;
  return `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`Portal Bridge cannot start: ${explain(error)}`);
    process.exit(1);
  });
}
