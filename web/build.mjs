// Builds the bridge's own web pages into dist/web/<site>/ (part of `npm run build`): the admin
// dashboard (TypeScript bundled with uPlot by esbuild) and the API docs (Swagger UI from the
// swagger-ui-dist package). Everything is served by the function app itself: no CDN.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'web');
const moduleFile = (...parts) => path.join(root, 'node_modules', ...parts);

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

fs.rmSync(out, { recursive: true, force: true });

// The dashboard: index.html, styles, uPlot's stylesheet and one bundled script.
const dashboard = path.join(out, 'dashboard');
await esbuild.build({
  entryPoints: [path.join(root, 'web', 'dashboard', 'main.ts')],
  bundle: true,
  format: 'iife',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  outfile: path.join(dashboard, 'app.js'),
  logLevel: 'warning',
});
copy(path.join(root, 'web', 'dashboard', 'index.html'), path.join(dashboard, 'index.html'));
copy(path.join(root, 'web', 'dashboard', 'dashboard.css'), path.join(dashboard, 'dashboard.css'));
copy(moduleFile('uplot', 'dist', 'uPlot.min.css'), path.join(dashboard, 'uPlot.min.css'));
copy(moduleFile('uplot', 'LICENSE'), path.join(dashboard, 'uPlot-LICENSE.txt'));

// The API docs: Swagger UI's bundle and styles, and our initializer (no inline script).
const docs = path.join(out, 'docs');
await esbuild.build({
  entryPoints: [path.join(root, 'web', 'docs', 'docs.ts')],
  bundle: true,
  format: 'iife',
  target: ['es2022'],
  minify: true,
  outfile: path.join(docs, 'docs.js'),
  logLevel: 'warning',
});
copy(path.join(root, 'web', 'docs', 'index.html'), path.join(docs, 'index.html'));
copy(path.join(root, 'web', 'docs', 'docs.css'), path.join(docs, 'docs.css'));
for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE']) {
  copy(
    moduleFile('swagger-ui-dist', file),
    path.join(docs, file === 'LICENSE' || file === 'NOTICE' ? `swagger-ui-${file}.txt` : file),
  );
}
