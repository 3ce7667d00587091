import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  // Preact's JSX through Vite's own esbuild transform: no framework plugin.
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: here("../dist/web"),
    emptyOutDir: true,
    rollupOptions: { input: { dashboard: here("index.html"), kiosk: here("kiosk.html") } },
  },
});
