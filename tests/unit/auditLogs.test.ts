import { auditLogs } from '../support/localHost';

const banner =
  "curl -H 'x-functions-key: dev-key-123456'\nLocal host ready at http://localhost:1\n";

describe('auditLogs (the integration suites’ leak check)', () => {
  it('passes clean logs and ignores the banner’s deliberate key', () => {
    expect(() =>
      auditLogs(`${banner}{"event":"request","status":200}`, ['dev-key-123456']),
    ).not.toThrow();
  });

  it.each([
    ['a JWT', '{"m":"eyJhbGciOi.eyJzdWIi.c2ln"}'],
    ['a session cookie', 'cookie AppServiceAuthSession=abc.def'],
    ['a principal header', '{"x-ms-client-principal-id":"alice"}'],
    ['secret #1', 'key dev-key-123456 seen'],
  ])('fails on %s without printing it', (what, line) => {
    expect(() => auditLogs(`${banner}${line}`, ['dev-key-123456'])).toThrow(
      `host logs leaked ${what}`,
    );
  });

  it('fails when the ready line is missing, instead of auditing almost nothing', () => {
    const renamed = banner.replace('Local host ready at', 'Host listening on');
    expect(() => auditLogs(`${renamed}{"event":"request","status":200}`, [])).toThrow(
      /no ready line/,
    );
  });
});
