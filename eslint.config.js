// Lint rules: typescript-eslint's recommended set over the sources, tests and benches, plus the layer
// table of docs/architecture.md: an import up the table, or any runtime import cycle, fails the lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Folders of src/, top layer first. A folder may import its own layer's folders and any layer below.
const LAYERS = [
  ['cli'],
  ['project', 'pipeline', 'batch', 'serve', 'report'],
  ['schema', 'ml'],
  ['store', 'registry', 'data'],
  ['core'],
];

const layerZones = LAYERS.flatMap((folders, depth) => {
  const above = LAYERS.slice(0, depth).flat();
  if (above.length === 0) return [];
  return folders.map((folder) => ({
    target: `./src/${folder}`,
    from: above.map((name) => `./src/${name}`),
    message: `src/${folder} is below ${above.join(', ')} in the layer table (docs/architecture.md): import downward only.`,
  }));
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/out/**', 'templates/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // Type-only imports are erased at build time, so only runtime cycles count.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Errors come from the catalogue (src/core/errors.ts), with a code, a hint and a status.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/^(Error|RangeError|TypeError)$/]',
          message: 'Throw a catalogue error (errors.PW_*) instead.',
        },
        {
          selector: 'ClassDeclaration[superClass.name=/^(Error|RangeError|TypeError)$/]',
          message: 'Add a code to the catalogue instead.',
        },
      ],
    },
  },
  {
    files: ['src/core/errors.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
