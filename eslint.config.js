// Type-aware lint (style.md §7.5): floating promises are the classic bug in a server made of streams and timers.
import tseslint from 'typescript-eslint';

const components = ['apiserver', 'kubelet', 'konnectivity', 'controllers', 'proxy', 'cli'];
// A component's folder that is a shared layer all the same: Konnectivity's packet codec, which the API server's
// egress dialer speaks too. It imports no component (the shared-layer rule below holds it to that).
const sharedInComponents = { konnectivity: ['proto'] };
// Shared layers import no component; a component imports no other component (they talk over the API).
const boundary = (own) => ({
  files: [`src/${own}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: components
          .filter((c) => c !== own)
          // `./x/…` is a component's own subfolder (src/apiserver/proxy is the API server's, not src/proxy).
          .map((c) => ({
            // gitignore-style groups cannot re-include a folder below an excluded one, hence a regex there.
            ...(sharedInComponents[c]
              ? { regex: `^(?!\./)(.*/)?${c}/(?!(${sharedInComponents[c].join('|')})/)` }
              : { group: [`**/${c}/*`, `**/${c}/**`, `!./${c}/**`] }),
            message: `${own} must not import the ${c} component`,
          })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'bin/', 'eslint.config.js', 'src/api/openapi/generated/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: 'only src/cli exits the process',
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  ...components.filter((c) => c !== 'cli').map(boundary),
  {
    files: [
      'src/lib/**/*.ts',
      'src/api/**/*.ts',
      'src/pki/**/*.ts',
      'src/storage/**/*.ts',
      'src/streams/**/*.ts',
      ...Object.entries(sharedInComponents).flatMap(([c, dirs]) => dirs.map((d) => `src/${c}/${d}/**/*.ts`)),
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: components.map((c) => ({
            group: [`**/${c}/*`, `**/${c}/**`],
            message: 'shared layers import no component',
          })),
        },
      ],
    },
  }
);
