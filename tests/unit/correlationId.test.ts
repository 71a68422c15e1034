import { InvocationContext } from '@azure/functions';
import { correlationId } from '../../src/http/log';

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
