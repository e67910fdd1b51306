import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dashboard's page runs in a browser, served as written (no bundler).
    files: ['src/dashboard/public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', location: 'readonly', EventSource: 'readonly', fetch: 'readonly', URLSearchParams: 'readonly', uPlot: 'readonly' } },
  },
  ...layer(['src/**/*.ts'], ['src/ui/**', 'src/cli.ts', 'src/adapters/kafka*.ts'], ['chalk', '@inquirer/prompts', 'kafkajs']),
  ...layer(['src/ui/**/*.ts', 'src/cli.ts'], [], ['kafkajs']),
  ...layer(['src/adapters/kafka*.ts'], [], ['chalk', '@inquirer/prompts']),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/cli.ts ends the process' }] },
  },
);

/** Layering (DESIGN.md): no terminal code below src/ui, no Kafka client outside src/adapters/kafka*. */
function layer(files, ignores, forbidden) {
  const why = { chalk: 'terminal code lives in src/ui', '@inquirer/prompts': 'prompts live in src/ui', kafkajs: 'Kafka code lives in src/adapters/kafka*' };
  return [{ files, ignores, rules: { 'no-restricted-imports': ['error', { paths: forbidden.map((name) => ({ name, message: why[name] })) }] } }];
}
