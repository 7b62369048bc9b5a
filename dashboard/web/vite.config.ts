import { defineConfig } from 'vite';

// No @vitejs/plugin-react (it does not install on this toolchain): esbuild's
// automatic JSX runtime is enough. `npm run build` writes dist/, which the Go
// binary embeds (dashboard/webapp.go).
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
  // css: tests read style.css as text (?raw), which Vitest empties unless CSS is processed.
  test: { include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'], environment: 'node', css: { include: [/style\.css/] } },
});
