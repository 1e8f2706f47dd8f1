// ESLint (flat config): TypeScript's recommended rules and React's hooks rules
// (rules-of-hooks, exhaustive-deps and the React Compiler checks of
// eslint-plugin-react-hooks 7). `npm run lint`; `make test` runs it through
// tests/test_frontend_unit.py.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules"] },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: { ecmaVersion: 2022, globals: globals.browser },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring a field away).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
);
