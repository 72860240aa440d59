/**
 * Lets a plain `node` process load the project's TypeScript, for tests that spawn child processes:
 *   node --require ./tests/helpers/register-ts.js tests/helpers/some-child.ts
 * Each .ts file is transpiled on load (no type check, which `tsc` and ts-jest already do).
 */
'use strict';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  resolveJsonModule: true,
  inlineSourceMap: true,
};

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function compileTypeScript(tsModule, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
    tsModule._compile(outputText, filename);
  };
}

module.exports = {};
