import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Registration } from './functionsCore';

export interface Route {
  registration: Registration;
  methods: Set<string>;
  authLevel: 'anonymous' | 'function' | 'admin';
  match(pathname: string): Record<string, string> | undefined;
}

/** `extensions.http.routePrefix` from host.json, default `api` like the real host. */
export function readRoutePrefix(projectRoot: string): string {
  try {
    const host = JSON.parse(readFileSync(path.join(projectRoot, 'host.json'), 'utf8')) as {
      extensions?: { http?: { routePrefix?: string } };
    };
    return host.extensions?.http?.routePrefix ?? 'api';
  } catch {
    return 'api';
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles a Functions route template (`users/{id}`, `{id:int?}`, `{*rest}`) to a matcher of
 * `HttpRequest.Path`, the path Kestrel has already decoded (dev/host/kestrel.ts `kestrelPath`):
 * route values are taken from it as they are, as ASP.NET Core's template matching does, so a
 * value is never decoded twice (`%2541` stays `%41`) and `%2F`, which Kestrel leaves encoded,
 * stays `%2F`.
 */
function compile(prefix: string, template: string) {
  const names: string[] = [];
  const segments = [prefix, template].filter(Boolean).join('/').split('/').filter(Boolean);
  const source = segments
    .map((segment) => {
      const param = /^\{(\*?)([A-Za-z_][\w]*)(?::[^}?]*)?(\?)?\}$/.exec(segment);
      if (!param) return `/${escape(segment)}`;
      names.push(param[2] ?? '');
      if (param[1]) return '(?:/(.*))?';
      return param[3] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  // The real host matches routes case-insensitively.
  const regex = new RegExp(`^${source || '/'}/?$`, 'i');
  return (pathname: string): Record<string, string> | undefined => {
    const m = regex.exec(pathname);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      const value = m[i + 1];
      if (value !== undefined) params[name] = value;
    });
    return params;
  };
}

export function buildRoutes(registrations: Registration[], prefix: string): Route[] {
  return registrations.map((registration) => ({
    registration,
    methods: new Set((registration.trigger.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase())),
    authLevel: registration.trigger.authLevel ?? 'anonymous',
    match: compile(prefix, registration.trigger.route ?? registration.name),
  }));
}
