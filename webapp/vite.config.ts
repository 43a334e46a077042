import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// The gateway serves the built client at `/`; in dev, vite serves it and proxies the API and the
// WebSocket to a running Parley (embedded mode by default on :8080, override with PARLEY_URL).
const target = process.env.PARLEY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [solid()],
  server: {
    proxy: {
      '/api': { target, changeOrigin: true },
      '/ws': {
        target,
        ws: true,
        changeOrigin: true,
        // The gateway checks the browser's Origin against its allow-list; the dev server's own
        // origin is not on it, so the proxy presents the target's. Tokens travel in the
        // subprotocol, not in cookies, so this opens nothing to other sites.
        configure: (proxy) => {
          proxy.on('proxyReqWs', (req) => req.setHeader('origin', target));
        },
      },
    },
  },
  build: { target: 'es2022' },
});
