import { defineConfig } from 'vite';

// The build goes to dist/, which web/embed.go embeds in the Go binary. Relative asset paths keep
// the console working behind a reverse proxy under a sub-path.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small bundle: no source maps in the binary, stable names only for index.html.
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` proxies the API to a running `streamsql serve --http 127.0.0.1:8080`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
