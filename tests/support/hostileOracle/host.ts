import type { Route } from './model';

/** The `host` layer: the Functions host's routes and methods. Part of tests/support/hostileOracle.ts. */

/**
 * The function routes (case-insensitive, an optional trailing slash). Every function takes
 * every method a Node handler can be given, so a wrong one is a 405 problem, not the host's 404. CORS
 * preflights never reach a route: the host's CORS layer ends them (`corsFor`).
 */
const FUNCTION_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
export const ROUTES: {
  route: Route;
  path: RegExp;
  methods: readonly string[];
  needsKey: boolean;
}[] = [
  { route: 'token', path: /^\/api\/token\/?$/i, methods: FUNCTION_METHODS, needsKey: true },
  {
    route: 'revoke',
    path: /^\/api\/token\/revoke\/?$/i,
    methods: FUNCTION_METHODS,
    needsKey: true,
  },
  { route: 'user', path: /^\/api\/user\/?$/i, methods: FUNCTION_METHODS, needsKey: true },
  { route: 'health', path: /^\/api\/health\/?$/i, methods: FUNCTION_METHODS, needsKey: false },
  {
    route: 'openapi',
    path: /^\/api\/openapi\.json\/?$/i,
    methods: FUNCTION_METHODS,
    needsKey: false,
  },
];
