import { runHostExpectingFailure } from '../support/localHost';

describe('local host start-up', () => {
  it('refuses to start on a bad setting, naming it without echoing secrets', async () => {
    const secretish = 'endpoint=http://10.1.2.3/;accesskey=c3VwZXItc2VjcmV0LXZhbHVlLTEyMzQ1Njc4';
    const { code, output } = await runHostExpectingFailure({
      ACS_CONNECTION_STRING: secretish,
      MAX_TOKEN_EXPIRY_MINUTES: '5000',
    });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration:');
    expect(output).toContain(
      'ACS_CONNECTION_STRING: endpoint must be https:// (http:// is accepted only for localhost emulators)',
    );
    expect(output).toContain('MAX_TOKEN_EXPIRY_MINUTES: must be a whole number from 60 to 1440');
    expect(output).not.toContain('c3VwZXItc2VjcmV0');
  });
});
