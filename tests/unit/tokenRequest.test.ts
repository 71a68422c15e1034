import { TokenRequestSchema } from '../../src/contracts/token';
import { AppError } from '../../src/domain/errors';
import { tokenRequestFromQuery } from '../../src/http/requestInput';
import { validate } from '../../src/http/validate';

function invalid(input: unknown): { detail: string; errors: unknown } {
  try {
    validate(TokenRequestSchema, input);
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_request') {
      return { detail: err.detail, errors: err.errors };
    }
    throw err;
  }
  throw new Error('expected invalid_request');
}

describe('TokenRequestSchema via validate', () => {
  it('accepts an empty body and a full one', () => {
    expect(validate(TokenRequestSchema, {})).toEqual({});
    expect(
      validate(TokenRequestSchema, { scopes: ['chat', 'voip'], expiresInMinutes: 1440 }),
    ).toEqual({ scopes: ['chat', 'voip'], expiresInMinutes: 1440 });
  });

  it.each([
    [{ scopes: [] }, 'scopes', 'must name at least one scope'],
    [{ scopes: ['voip', 'voip'] }, 'scopes', 'must not repeat a scope'],
    [{ scopes: 'voip' }, 'scopes', 'must be an array of scope names'],
    [
      { scopes: ['bogus'] },
      'scopes[0]',
      'unknown scope "bogus"; allowed: chat, voip, chat.join, chat.join.limited, voip.join',
    ],
    [{ expiresInMinutes: 59 }, 'expiresInMinutes', 'must be between 60 and 1440'],
    [{ expiresInMinutes: 1441 }, 'expiresInMinutes', 'must be between 60 and 1440'],
    [{ expiresInMinutes: 60.5 }, 'expiresInMinutes', 'must be a whole number of minutes'],
    [{ expiresInMinutes: '60' }, 'expiresInMinutes', 'must be a number of minutes'],
    [{ scopes: ['voip'], admin: true }, 'admin', 'is not a known field'],
  ])('refuses %j naming %s', (input, field, message) => {
    expect(invalid(input)).toEqual({
      detail: `${field} ${message}.`,
      errors: [{ field, message }],
    });
  });

  it('refuses a body that is not an object', () => {
    expect(invalid([1, 2]).errors).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
    expect(invalid(null).errors).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
  });

  it('refuses a deeply nested scope without echoing it', () => {
    const depth = 7_000;
    const body = `{"scopes":${'['.repeat(depth)}"voip"${']'.repeat(depth)}}`;
    const message =
      'must be a scope name; allowed: chat, voip, chat.join, chat.join.limited, voip.join';
    expect(invalid(JSON.parse(body))).toEqual({
      detail: `scopes[0] ${message}.`,
      errors: [{ field: 'scopes[0]', message }],
    });
  });

  it('treats __proto__ as an unknown field, not a prototype', () => {
    expect(invalid(JSON.parse('{"__proto__":{"scopes":["chat"]}}')).errors).toEqual([
      { field: '__proto__', message: 'is not a known field' },
    ]);
  });
});

describe('tokenRequestFromQuery', () => {
  it('splits scopes and reads the lifetime as a number', () => {
    expect(
      tokenRequestFromQuery(new URLSearchParams('scopes=voip,chat&expiresInMinutes=90')),
    ).toEqual({
      scopes: ['voip', 'chat'],
      expiresInMinutes: 90,
    });
  });

  it('accepts repeated scopes and ignores the function key', () => {
    expect(tokenRequestFromQuery(new URLSearchParams('scopes=voip&scopes=chat&code=k'))).toEqual({
      scopes: ['voip', 'chat'],
    });
  });

  it('keeps a non-numeric lifetime as text so the schema names it', () => {
    expect(tokenRequestFromQuery(new URLSearchParams('expiresInMinutes=soon'))).toEqual({
      expiresInMinutes: 'soon',
    });
  });

  it('refuses unknown parameters and a repeated lifetime', () => {
    expect(() => tokenRequestFromQuery(new URLSearchParams('admin=1'))).toThrow(
      'Unknown query parameter admin.',
    );
    expect(() =>
      tokenRequestFromQuery(new URLSearchParams('expiresInMinutes=60&expiresInMinutes=90')),
    ).toThrow('expiresInMinutes is given more than once.');
  });
});
