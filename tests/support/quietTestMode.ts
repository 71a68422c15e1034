// Outside the Functions worker, @azure/functions warns once per `app.http(...)` that it skips the
// registration. In-process handler tests expect exactly that, so only those warnings are muted.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('WARNING: ') && /test mode/.test(args[0])) {
    return;
  }
  warn(...args);
};
