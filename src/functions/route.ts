import type {
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { Caller } from '../domain/caller';
import type { RequestFacts } from '../http/requestFacts';
import type { Services } from '../runtime';

/** One request, as a route's handler sees it. */
export interface Call {
  request: HttpRequest;
  context: InvocationContext;
  facts: RequestFacts;
}

/** A request to a protected route, its caller already admitted (authenticated, rate-limited). */
export interface CallerCall extends Call {
  caller: Caller;
}

type Respond<C> = (call: C) => Promise<HttpResponseInit>;

interface RouteShape {
  /** The function's name: the host's, the log record's `operation`. */
  name: string;
  /** Under `/api`, as the Functions host routes it. */
  route: string;
  /** The methods served; any other gets a 405 problem. */
  methods: readonly HttpMethod[];
}

/**
 * One HTTP function as the app declares it. It names what it needs from the services and nothing
 * else: `registerFunctions` (src/app.ts) decides the auth level from the config it is given,
 * admits the caller of a protected route and wraps the handler in `endpoint`.
 */
export type FunctionRoute =
  | (RouteShape & { access: 'anonymous'; build: (services: Services) => Respond<Call> })
  | (RouteShape & { access: 'protected'; build: (services: Services) => Respond<CallerCall> });

/** A route anyone may call: probes, the contract. */
export function anonymousRoute(
  shape: RouteShape,
  build: (services: Services) => Respond<Call>,
): FunctionRoute {
  return { ...shape, access: 'anonymous', build };
}

/**
 * A route that serves callers only: a function key in key mode, the platform's sign-in in
 * easyauth mode, a bearer token in jwt mode; each caller rate-limited before anything else runs.
 */
export function protectedRoute(
  shape: RouteShape,
  build: (services: Services) => Respond<CallerCall>,
): FunctionRoute {
  return { ...shape, access: 'protected', build };
}
