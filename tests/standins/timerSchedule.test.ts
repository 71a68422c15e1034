import { monitorByDefault, parseSchedule } from '../../dev/host/timers';

/** The local host reads timer schedules as the Functions host does (dev/host/timers.ts). */
describe('timer schedules', () => {
  const at = new Date('2026-12-04T10:00:07.000Z');

  it('takes six-field NCRONTAB expressions, seconds first', () => {
    expect(parseSchedule('*/30 * * * * *').next(at).toISOString()).toBe('2026-12-04T10:00:30.000Z');
    expect(parseSchedule('0 5 * * * *').next(at).toISOString()).toBe('2026-12-04T10:05:00.000Z');
  });

  it('refuses five-field crontab, as CronSchedule.TryCreate does (IncludingSeconds)', () => {
    expect(() => parseSchedule('*/5 * * * *')).toThrow(/six fields/);
    expect(() => parseSchedule('61 * * * * *')).toThrow(/not a valid CRON expression/);
  });

  it('takes a TimeSpan (ConstantSchedule) and an app setting named as %NAME%', () => {
    expect(parseSchedule('00:05:00').next(at).toISOString()).toBe('2026-12-04T10:05:07.000Z');
    const env = { POOL_SCHEDULE: '0 */2 * * * *' };
    expect(parseSchedule('%POOL_SCHEDULE%', env).next(at).toISOString()).toBe(
      '2026-12-04T10:02:00.000Z',
    );
    expect(() => parseSchedule('%MISSING%', {})).toThrow(/MISSING is not set/);
  });

  it('monitors schedules a minute or more apart by default, not shorter ones', () => {
    expect(monitorByDefault(parseSchedule('*/30 * * * * *'), at)).toBe(false);
    expect(monitorByDefault(parseSchedule('0 * * * * *'), at)).toBe(true);
  });
});
