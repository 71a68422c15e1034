import { redact, redactText } from '../../src/infra/redact';

describe('redact', () => {
  it('removes JWTs, keys, signatures, bearer credentials and session cookies from text', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI4OmFjczp4In0.c2lnbmF0dXJl';
    const text = [
      `token ${jwt}`,
      'endpoint=https://x.communication.azure.com/;accesskey=QUJDREVGRw==',
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=S2V5S2V5==;',
      'https://x/api/token?code=fn-key-123&x=1',
      'Authorization: Bearer abc.def',
      'HMAC-SHA256 SignedHeaders=x&Signature=zzz',
      'cookie: AppServiceAuthSession=payload.sig; other=1',
    ].join('\n');
    const out = redactText(text);
    for (const secret of [
      jwt,
      'QUJDREVGRw==',
      'S2V5S2V5==',
      'fn-key-123',
      'abc.def',
      'payload.sig',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('accesskey=[redacted]');
    expect(out).toContain('AppServiceAuthSession=[redacted]');
    expect(out).toContain('&x=1');
  });

  it('drops fields whose names say they hold secrets, at any depth', () => {
    expect(
      redact({
        event: 'x',
        scopes: ['voip'],
        nested: { accessToken: 'a', connectionString: 'b', 'x-ms-client-principal': 'c', ok: 1 },
        list: [{ cookie: 'd' }],
      }),
    ).toEqual({
      event: 'x',
      scopes: ['voip'],
      nested: {
        accessToken: '[redacted]',
        connectionString: '[redacted]',
        'x-ms-client-principal': '[redacted]',
        ok: 1,
      },
      list: [{ cookie: '[redacted]' }],
    });
  });
});
