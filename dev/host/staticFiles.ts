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

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * Reads the request path as sent, before `new URL` quietly resolves `..`: a request that tries to
 * climb out of the folder is refused outright rather than served something else.
 */
function requestedSegments(rawUrl: string): string[] | 'refuse' | undefined {
  // An absolute-form target (`GET http://host/path`, RFC 9112 §3.2.2, as proxies send it) names
  // the path after its authority; an empty one is `/`.
  const authority = ABSOLUTE_FORM.exec(rawUrl)?.[0];
  const target = authority === undefined ? rawUrl : rawUrl.slice(authority.length);
  const rawPath = target.split(/[?#]/, 1)[0] || (authority === undefined ? '' : '/');
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
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
 * paths that are not a file in the folder fall through to the app. GET and HEAD only; every
 * answer is `no-store` and carries a strict Content-Security-Policy. Local use only.
 */
export function staticFiles(options: { root: string; appPrefix?: string }): PlatformLayer {
  const root = path.resolve(options.root);
  return {
    async handle(req, res) {
      const segments = requestedSegments(req.url ?? '/');
      if (segments === undefined) return false;
      if (segments === 'refuse') return bare(res, 400);
      // Hidden names are never content, and `/.auth/*` belongs to the Easy Auth layer.
      if (segments.some((s) => s.startsWith('.'))) return false;
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
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') return bare(res, 405, { allow: 'GET, HEAD' });
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
