import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dashboard: `npm run build:web` writes web/dist, which `peergrid start` / `peergrid serve` serve at `/`.
// `npx vite web` serves it with hot reload and sends /api, /rpc and /metrics to a running `peergrid start`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { "/api": "http://127.0.0.1:8080", "/rpc": "http://127.0.0.1:8080", "/metrics": "http://127.0.0.1:8080" } },
});
