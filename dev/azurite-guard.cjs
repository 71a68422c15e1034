// Preloaded into the Azurite process by dev/azurite.ts (`node --require`), before Azurite's own
// code runs. Azurite saves its tables only when it closes in order: its table main
// (node_modules/azurite/dist/src/table/main.js) calls `server.close()` on the first SIGINT or on
// an IPC "shutdown" message, which closes the LokiJS store (LokiTableMetadataStore.close ->
// Loki.close, which writes whatever the 5 s autosave has not yet written). Any other end loses up
// to those 5 s of writes. This guard makes every way its parent can go lead to that one close:
//   - SIGTERM is turned into the SIGINT Azurite understands;
//   - a second SIGINT (Azurite listens only once) no longer kills it mid-save;
//   - if the parent dies without stopping it (even by SIGKILL), the IPC channel drops and the
//     guard asks Azurite to close, so nothing is left running and nothing is lost.
'use strict';
/* global setTimeout */

let closing = false;

/** Azurite listens for SIGINT once it has started; before that it holds nothing to save. */
function azuriteListens() {
  return process.listeners('SIGINT').some((listener) => listener !== onSigint);
}

// Should Azurite's close hang, end anyway rather than linger; the parent's own bounded wait is
// usually shorter.
function leaveEventually() {
  setTimeout(() => process.exit(1), 15_000).unref();
}

// Registered first, so it sees every SIGINT before Azurite's own listener does the closing.
function onSigint() {
  if (closing) return; // a second one must not interrupt the save
  closing = true;
  if (!azuriteListens()) process.exit(0);
  leaveEventually();
}

function close() {
  if (closing) return;
  process.kill(process.pid, 'SIGINT');
}

process.on('SIGINT', onSigint);
process.on('SIGTERM', close);
process.on('disconnect', close);
// The channel is only a lifeline: it must not keep the process alive once Azurite has closed.
if (process.channel) process.channel.unref();
