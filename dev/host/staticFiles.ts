import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import type { PlatformLayer } from './server';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Same-origin only and nothing inline: the demo page needs no more, and a page that holds access
 * tokens should not be able to load script or send data anywhere else.
 */
export const DEMO_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

function bare(res: ServerResponse, status: number, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-length': '0', ...headers }).end();
  return true;
}

function isInside(folder: string, target: string): boolean {
  return target.startsWith(folder + path.sep);
}

/**
 * The file a request path names. The host layer hands over the path Kestrel has already
 * %-decoded and rid of dot segments (dev/host/kestrel.ts), escaped again; what is still encoded
 * (`%2F`, which Kestrel keeps) is decoded here, and a name that would climb out of the folder
 * that way (`..%2F`, `..\\`) is refused outright rather than served something else.
 */
function requestedSegments(pathname: string): string[] | 'refuse' | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined; // not a file name; let the app's routes answer it
  }
  if (!decoded.startsWith('/') || decoded.includes('\0')) return 'refuse';
  const segments = decoded.slice(1).split(/[\\/]/);
  if (segments.some((s) => s === '..')) return 'refuse';
  return segments;
}

/**
 * Serves the files of one folder at `/` (`index.html` for `/`), in front of the app's routes:
 * paths that are not a file in the folder fall through to the app. GET and HEAD only: other
 * methods go on to the host as they would in Azure (a 404, or the host's page at `/`). Every
 * answer is `no-store` and carries a strict Content-Security-Policy. Local use only.
 */
export function staticFiles(options: { root: string; appPrefix?: string }): PlatformLayer {
  const root = path.resolve(options.root);
  return {
    async handle(req, res, url) {
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') return false;
      const segments = requestedSegments(url.pathname);
      if (segments === undefined) return false;
      if (segments === 'refuse') return bare(res, 400);
      // Hidden names are never content, and `/.auth/*` belongs to the Easy Auth layer. An empty
      // segment (`//api/token`, which Kestrel keeps as it is) names no file either.
      if (segments.some((s) => s.startsWith('.'))) return false;
      if (segments.length > 1 && segments.includes('')) return false;
      // The functions' route prefix is theirs: no file lookups (realpath failing with ENOENT) in
      // front of every API request, which cost the bench's host a sixth of its CPU.
      if (options.appPrefix && segments[0] === options.appPrefix) return false;
      const relative = segments.join('/') || 'index.html';
      const target = path.resolve(root, relative);
      if (!isInside(root, target)) return bare(res, 400);
      let real: string;
      try {
        real = await fs.realpath(target);
        // A symbolic link inside the folder must not lead out of it.
        if (!isInside(await fs.realpath(root), real) || !(await fs.stat(real)).isFile()) {
          return false;
        }
      } catch {
        return false; // no such file: the app's routes answer
      }
      const body = await fs.readFile(real);
      res.writeHead(200, {
        'content-type':
          CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream',
        'content-length': String(body.length),
        'cache-control': 'no-store',
        'content-security-policy': DEMO_CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
