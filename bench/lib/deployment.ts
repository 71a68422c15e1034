/**
 * The runtime settings a deployed worker gets, so the benchmark's host runs as Azure runs the app.
 * tests/infra/template.test.ts holds both facts to infra/ (main.bicep's default
 * `instanceMemoryMB`, function-app.bicep's NODE_OPTIONS).
 */
export const DEFAULT_INSTANCE_MEMORY_MB = 2048;

/**
 * NODE_OPTIONS of the Function App: V8's old space capped at a quarter of the instance, and 8 MB
 * semi-spaces (Node 22's default young generation cost ~20 MB of RSS for no gain).
 */
export function workerNodeOptions(instanceMemoryMB = DEFAULT_INSTANCE_MEMORY_MB): string {
  return `--max-old-space-size=${instanceMemoryMB / 4} --max-semi-space-size=8`;
}
