import { HttpRequest, InvocationContext } from '@azure/functions';
import { corsHeaders, preflightResponse } from '../../src/http/cors';
import { correlationId } from '../../src/http/log';

describe('corsHeaders', () => {
  it('echoes a listed origin with credentials and varies on Origin', () => {
    expect(corsHeaders('https://app.example.com', ['https://app.example.com'])).toEqual({
      Vary: 'Origin',
      'Access-Control-Allow-Origin': 'https://app.example.com',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Expose-Headers': 'retry-after, www-authenticate',
    });
  });

  it('gives an unlisted origin nothing', () => {
    expect(corsHeaders('https://evil.example', ['https://app.example.com'])).toEqual({
      Vary: 'Origin',
    });
    expect(corsHeaders('https://evil.example', [])).toEqual({});
  });

  it('never pairs * with credentials', () => {
    const headers = corsHeaders('https://any.example', '*');
    expect(headers['Access-Control-Allow-Origin']).toBe('*');
    expect(headers['Access-Control-Allow-Credentials']).toBeUndefined();
  });
});

describe('preflightResponse', () => {
  const preflight = (origin: string) =>
    new HttpRequest({
      method: 'OPTIONS',
      url: 'http://localhost/api/token',
      headers: { origin, 'access-control-request-method': 'POST' },
    });

  it('allows the methods and headers a listed origin may send', () => {
    const answer = preflightResponse(preflight('https://app.example.com'), [
      'https://app.example.com',
    ]);
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'Access-Control-Allow-Methods': 'GET, POST, DELETE',
      'Access-Control-Allow-Headers': 'content-type, x-functions-key, traceparent, authorization',
    });
  });

  it('answers an unlisted origin without permission', () => {
    const answer = preflightResponse(preflight('https://evil.example'), [
      'https://app.example.com',
    ]);
    expect(answer.headers).not.toHaveProperty('Access-Control-Allow-Origin');
    expect(answer.headers).not.toHaveProperty('Access-Control-Allow-Methods');
  });
});

describe('correlationId', () => {
  const context = (traceParent?: string) =>
    new InvocationContext({
      invocationId: 'inv-1',
      ...(traceParent ? { traceContext: { traceParent } } : {}),
    });

  it('uses the W3C trace id when there is one', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(correlationId(context(tp))).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(correlationId(context(), tp)).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('falls back to the invocation id for a missing or malformed traceparent', () => {
    expect(correlationId(context())).toBe('inv-1');
    expect(correlationId(context(), 'not-a-traceparent')).toBe('inv-1');
  });
});
