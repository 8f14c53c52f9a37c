/**
 * The web UI: the single-page app built by Vite into `dist/ui` (`npm run build`),
 * served as static files. The app routes with the URL hash, so `/` is its only page.
 * Without a build, `/` says how to make one.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** `dist/ui` of this package, from `src/server/routes/` or `dist/server/routes/`. */
export function uiBuildDir(): string {
  return fileURLToPath(new URL('../../../dist/ui/', import.meta.url));
}

export const uiRoutes: FastifyPluginAsync<{ root?: string }> = async (app, options) => {
  const root = options.root ?? uiBuildDir();
  if (fs.existsSync(`${root}/index.html`)) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      index: 'index.html',
      // Hashed asset names: cache for a year; index.html: always revalidate.
      setHeaders(reply, file) {
        reply.header(
          'cache-control',
          file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
        );
      },
    });
    return;
  }
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/plain; charset=utf-8')
      .send(
        `The web UI is not built. Run 'npm run build' (it writes ${root}); the API is at /api/v1.\n`,
      ),
  );
};
