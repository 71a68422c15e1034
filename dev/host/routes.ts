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
 * A route value, decoded. Broken %-encoding (`/api/%zz` reaching a catch-all `{*path}`) is
 * the client's mistake, not the host's: the value is handed over as sent, not a 500.
 */
function decodeRouteValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Compiles a Functions route template (`users/{id}`, `{id:int?}`, `{*rest}`) to a matcher. */
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
      if (value !== undefined) params[name] = decodeRouteValue(value);
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
