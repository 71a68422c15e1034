import type { HttpFunctionOptions, HttpHandler } from '@azure/functions';
import { registerFunctions } from '../../src/app';
import type { Services } from '../../src/runtime';

/** One registration as the app hands it to the host. */
export interface CapturedFunction {
  name: string;
  options: HttpFunctionOptions;
}

/**
 * The app built as the host builds it, through `registerFunctions`, with `services` of the test's
 * choosing: what it registered, in order, and each handler by function name.
 */
export function buildApp(services: Services): {
  functions: CapturedFunction[];
  handler(name: string): HttpHandler;
} {
  const functions: CapturedFunction[] = [];
  registerFunctions({ http: (name, options) => functions.push({ name, options }) }, services);
  return {
    functions,
    handler(name) {
      const found = functions.find((f) => f.name === name);
      if (!found) throw new Error(`the app registers no function named ${name}`);
      return found.options.handler;
    },
  };
}
