import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The app is built into dist/web and served by the server (plugins/web-app.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
  },
});
