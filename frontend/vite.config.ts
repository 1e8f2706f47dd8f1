/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

// Django serves the build from STATIC_URL ("/static/") through staticfiles,
// and django-vite reads dist/.vite/manifest.json to find the hashed files.
const django = process.env.DJANGO_ORIGIN ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/static/",
  plugins: [react(), tailwindcss()],
  build: {
    manifest: true,
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      // The page is Django's template, so the entry is the script, not index.html.
      // The chat page, and the widget preview the admin shows in an iframe.
      input: ["src/main.tsx", "src/widgetPreview.tsx"],
    },
  },
  server: {
    port: 5173,
    strictPort: true,
    // django-vite's dev mode loads scripts from this server on another origin.
    cors: true,
    proxy: {
      // The Django page itself (sets the csrftoken cookie), the protocol
      // endpoint and the admin all live on the Django server.
      "^/$": django,
      "/chatkit": django,
      "/admin": django,
      "/static/admin": django,
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
