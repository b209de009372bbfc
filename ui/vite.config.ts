// The web UI's build (`npm run build` runs it after the CLI bundle): Preact through its Vite preset,
// written to dist/ui, which `portcullis serve` serves at `/`. No inline scripts or styles are
// emitted (the service's CSP has no 'unsafe-inline'), and sourcemaps stay out of the shipped assets.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
