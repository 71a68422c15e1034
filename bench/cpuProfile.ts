/**
 * Preloaded into host processes when BENCH_PROFILE_DIR is set (`--require`, since Node does not
 * accept --cpu-prof in NODE_OPTIONS): records a V8 CPU profile from start-up to exit and writes
 * it as <dir>/host-<pid>.cpuprofile, which Chrome DevTools or speedscope open.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  // An in-thread session answers synchronously, so this still works inside 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) {
        writeFileSync(
          path.join(dir, `host-${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
      }
    });
  });
}
