// drizzle-kit turns src/storage/schema.ts into the SQL migrations of schema/migrations.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/storage/schema.ts",
  out: "./schema/migrations",
});
