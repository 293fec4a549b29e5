import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` serves the app with hot reload and sends /api/stt/* to the local gateway
// (`make run`), so the page talks to the same relative URLs as in production.
const gateway = process.env.CAPTIONIST_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    proxy: { "/api/stt": { target: gateway, ws: true } },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  test: { include: ["tests/**/*.test.ts"], environment: "node" },
});
