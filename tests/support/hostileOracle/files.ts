import { statSync } from 'node:fs';
import path from 'node:path';
import type { Expectation, Seen } from './model';

/** The `files` layer: the browser demo's files the local host serves in front of the routes. Part of tests/support/hostileOracle.ts. */

const DEMO_CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The demo folder does not change during a run; asking the file system once per path is enough. */
const fileKnown = new Map<string, boolean>();
function isFile(file: string): boolean {
  let known = fileKnown.get(file);
  if (known === undefined) {
    try {
      known = statSync(file).isFile();
    } catch {
      known = false; // missing, or a path through a file (`index.html/x`)
    }
    if (fileKnown.size < 10_000) fileKnown.set(file, known);
  }
  return known;
}

/**
 * The demo-file layer, for GET and HEAD only (other methods go on to the host). It sees the path
 * Kestrel decoded and normalised; what is still encoded there (`%2F`) is decoded once more, and a
 * name that then climbs out of the folder (`..%2F`, `..\\`) or holds a NUL is refused. A path
 * that is not a file there (a hidden name, an empty segment, a folder, a missing file, broken
 * %-encoding) is the host's to answer: `undefined`.
 */
export function demoFileAnswer(
  seen: Seen,
  decodedPath: string,
  root: string,
): Expectation | undefined {
  const method = seen.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(decodedPath.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
  } catch {
    return undefined;
  }
  const refuse = (why: string): Expectation => ({ layer: 'files', status: 400, why });
  if (!decoded.startsWith('/')) return refuse('not a path');
  if (decoded.includes('\0')) return refuse('NUL in the path');
  const segments = decoded.slice(1).split(/[\\/]/);
  if (segments.includes('..')) return refuse('`..` in the path');
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  if (segments.length > 1 && segments.includes('')) return undefined;
  const file = path.resolve(root, segments.join('/') || 'index.html');
  if (!file.startsWith(root + path.sep)) return refuse('a path outside the folder');
  if (!isFile(file)) return undefined;
  const contentType = DEMO_CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  return { layer: 'files', status: 200, file, contentType, why: 'a demo file' };
}
