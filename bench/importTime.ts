/**
 * `node dist/bench/importTime.js <entry>`: how long `require(<entry>)` takes in a fresh process,
 * with the local host's stand-in for `@azure/functions-core` installed first (as the host does),
 * so the app registers its functions exactly as it would under the Functions worker. Prints one
 * JSON line: {"importMs":…, "registrations":…}. The entry parses its settings on import, so the
 * caller passes a valid ACS_CONNECTION_STRING (nothing is called over the network).
 */
import path from 'node:path';
import {
  createFunctionsCore,
  installFunctionsCore,
  type Registration,
} from '../dev/host/functionsCore';

const entry = process.argv[2];
if (!entry) {
  console.error('usage: node dist/bench/importTime.js <entry file>');
  process.exit(2);
}
const registrations: Registration[] = [];
installFunctionsCore(createFunctionsCore(registrations));
const file = path.resolve(entry);
const started = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(file);
const importMs = performance.now() - started;
console.log(JSON.stringify({ importMs, registrations: registrations.length }));
