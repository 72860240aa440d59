import * as path from 'node:path';

/**
 * Piscina `filename`/`workerData` for a task module next to the pool's own file: the compiled
 * `<name>.js` in dist, or — when the sources run untranspiled (ts-jest) — a test helper that loads
 * `<name>.ts` through the project's transpile-on-require hook. Both pools use this one rule.
 */
export function workerModule(
  poolFile: string,
  taskModule: string,
): { filename: string; workerData?: { tsEntry: string } } {
  const dir = path.dirname(poolFile);
  if (path.extname(poolFile) === '.js') return { filename: path.join(dir, `${taskModule}.js`) };
  return {
    filename: path.resolve(dir, '../../../tests/helpers/ts-worker.js'),
    workerData: { tsEntry: path.join(dir, `${taskModule}.ts`) },
  };
}
