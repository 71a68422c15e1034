import Module from 'node:module';
import type { HttpHandler } from '@azure/functions';
import type { TimerRegistration, TimerTriggerBinding } from './timers';

/** One `app.http(...)` registration as the library hands it to the worker. */
export interface Registration {
  name: string;
  trigger: HttpTriggerBinding;
  handler: HttpHandler;
}

export interface HttpTriggerBinding {
  type: string;
  methods?: string[];
  authLevel?: 'anonymous' | 'function' | 'admin';
  route?: string;
}

interface CoreFunctionMetadata {
  name?: string;
  bindings?: Record<string, { type?: string } & Record<string, unknown>>;
}

/**
 * Stands in for the worker's side of `@azure/functions-core`. The library `require`s that module
 * lazily and runs in "test mode" without it (azure-functions-nodejs-library,
 * src/utils/tryGetCoreApiLazy.ts); its API (`registerFunction`, `setProgrammingModel`,
 * `registerHook`, `log`) is declared in that repository's types-core/index.d.ts. The library
 * hands us each registration exactly as it would hand it to Azure, so the host needs no route
 * table of its own.
 */
export function createFunctionsCore(
  registrations: Registration[],
  timers: TimerRegistration[] = [],
) {
  return {
    version: 'local-host',
    registerFunction(metadata: CoreFunctionMetadata, handler: HttpHandler) {
      const name = metadata.name ?? 'unnamed';
      const bindings = Object.values(metadata.bindings ?? {});
      const trigger = bindings.find((b) => b.type === 'httpTrigger');
      // The timer binding as toCoreFunctionMetadata writes it: schedule, runOnStartup, useMonitor.
      const timer = bindings.find((b) => b.type === 'timerTrigger');
      if (trigger) {
        registrations.push({ name, trigger: trigger as HttpTriggerBinding, handler });
      } else if (timer) {
        timers.push({
          name,
          trigger: timer as unknown as TimerTriggerBinding,
          handler: handler as unknown as TimerRegistration['handler'],
        });
      } else {
        console.warn(`[host] ${name}: only HTTP and timer triggers run locally; skipped`);
      }
      return { dispose: () => undefined };
    },
    setProgrammingModel(): void {},
    getProgrammingModel(): undefined {
      return undefined;
    },
    registerHook() {
      return { dispose: () => undefined };
    },
    log(level: string, _category: string, message: string): void {
      if (level === 'error' || level === 'warning') console.warn(`[host] ${message}`);
    },
  };
}

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

/** Makes `require('@azure/functions-core')` resolve to `core` for everything loaded after this. */
export function installFunctionsCore(core: object): void {
  const loader = Module as unknown as { _load: ModuleLoad };
  const original = loader._load;
  loader._load = function load(request, parent, isMain) {
    if (request === '@azure/functions-core') return core;
    return original.call(this, request, parent, isMain);
  };
}
