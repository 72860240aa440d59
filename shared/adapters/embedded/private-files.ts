import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The embedded adapters keep credentials and user data on local disk (the store, the bus, the
 * secrets file, uploaded files), so what they create is private to the account running the bridge:
 * directories 0700, files 0600. SQLite gives its -wal and -shm files the mode of the database file,
 * so creating that file 0600 first covers them too; files left 0644 by older versions are tightened.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates a directory 0700 (with parents); an existing one is tightened when it is ours and not shared (sticky, like /tmp). */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const stat = fs.statSync(dir);
  const sticky = (stat.mode & 0o1000) !== 0;
  const ours = typeof process.getuid !== 'function' || stat.uid === process.getuid();
  if (ours && !sticky && (stat.mode & 0o077) !== 0) fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Tightens a file to 0600 if it exists and is ours. */
export function tightenFile(file: string): void {
  try {
    const stat = fs.statSync(file);
    const ours = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    if (stat.isFile() && ours && (stat.mode & 0o077) !== 0) fs.chmodSync(file, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Prepares an SQLite database path: private directory, the file created 0600, old files and journals tightened. */
export function preparePrivateDatabase(file: string): void {
  ensurePrivateDir(path.dirname(file));
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const suffix of ['', '-wal', '-shm', '-journal']) tightenFile(file + suffix);
}

/** A data file the bridge cannot use, with what to do about it: shown at start-up instead of a stack trace. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem}. ${fix}`);
    this.name = 'DataFileError';
  }
}

/** Explains why an SQLite database could not be opened, when the file itself is the cause. */
export function databaseOpenFailure(file: string, error: unknown): DataFileError | undefined {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const aside = `Move ${path.basename(file)} (and any -wal/-shm next to it) aside to start with an empty one, or restore it from a backup.`;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed/i.test(message))
    return new DataFileError(file, `is not a valid SQLite database (${message})`, aside);
  if (code === 'SQLITE_CANTOPEN' || code === 'EISDIR' || code === 'EACCES' || code === 'SQLITE_READONLY')
    return new DataFileError(
      file,
      `cannot be opened for writing (${message})`,
      'Check that it is a regular file owned by the account running the bridge, in a writable directory.',
    );
  return undefined;
}
