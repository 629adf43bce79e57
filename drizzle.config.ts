import { defineConfig } from 'drizzle-kit';

// Generates SQL migrations from the schema; they are applied by the app at start and by `npm run db:migrate`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/adapters/postgres/schema/index.ts',
  out: './drizzle',
});
