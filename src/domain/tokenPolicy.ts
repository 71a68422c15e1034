import type { AcsScope, TokenRequest } from '../contracts/token';
import type { Caller } from './caller';
import { AppError } from './errors';

export interface TokenPolicyRules {
  allowedScopes: readonly AcsScope[];
  defaultScopes: readonly AcsScope[];
  defaultExpiryMinutes: number;
  maxExpiryMinutes: number;
  /** Easy Auth role → what it may be granted; without it the rules above apply to everyone. */
  rolePolicy?:
    | Record<string, { scopes: AcsScope[]; defaultScopes: AcsScope[]; maxExpiryMinutes: number }>
    | undefined;
}

/** What a caller is granted: the scopes and lifetime that go to ACS. */
export interface TokenGrant {
  scopes: AcsScope[];
  expiresInMinutes: number;
}

interface Limits {
  allowed: readonly AcsScope[];
  defaults: readonly AcsScope[];
  maxExpiryMinutes: number;
}

/**
 * Decides what a validated request is granted. Asking for more than the caller may have is
 * refused (403) rather than silently narrowed, so a client never holds a token it did not expect.
 */
export class TokenPolicy {
  constructor(private readonly rules: TokenPolicyRules) {}

  /** A caller's limits: the union of what its roles allow, or the service-wide rules. */
  limitsFor(caller: Caller): Limits {
    const { rolePolicy } = this.rules;
    if (!rolePolicy || caller.kind !== 'principal') {
      return {
        allowed: this.rules.allowedScopes,
        defaults: this.rules.defaultScopes,
        maxExpiryMinutes: this.rules.maxExpiryMinutes,
      };
    }
    const matched = caller.roles.flatMap((role) =>
      Object.hasOwn(rolePolicy, role) ? [rolePolicy[role]!] : [],
    );
    return {
      allowed: [...new Set(matched.flatMap((r) => r.scopes))],
      defaults: [...new Set(matched.flatMap((r) => r.defaultScopes))],
      maxExpiryMinutes: Math.max(0, ...matched.map((r) => r.maxExpiryMinutes)),
    };
  }

  grant(
    request: Pick<TokenRequest, 'scopes' | 'expiresInMinutes'>,
    caller: Caller = { kind: 'keyHolder', keyId: '' },
  ): TokenGrant {
    const limits = this.limitsFor(caller);
    if (limits.allowed.length === 0) {
      throw new AppError('forbidden', 'None of your roles may be granted an ACS token here.');
    }
    const scopes = request.scopes ?? [...limits.defaults];
    const refused = scopes.filter((s) => !limits.allowed.includes(s));
    if (refused.length > 0) {
      throw new AppError(
        'scope_not_allowed',
        `You may not be granted ${refused.map((s) => `"${s}"`).join(', ')}; allowed scopes: ${limits.allowed.join(', ')}.`,
        { errors: [{ field: 'scopes', message: `not allowed: ${refused.join(', ')}` }] },
      );
    }
    const expiresInMinutes = Math.min(
      request.expiresInMinutes ?? this.rules.defaultExpiryMinutes,
      // A default longer than the caller's cap is shortened; an explicit ask is refused below.
      request.expiresInMinutes === undefined ? limits.maxExpiryMinutes : Infinity,
    );
    if (expiresInMinutes > limits.maxExpiryMinutes) {
      throw new AppError(
        'expiry_not_allowed',
        `expiresInMinutes may be at most ${limits.maxExpiryMinutes} for you.`,
        { errors: [{ field: 'expiresInMinutes', message: `at most ${limits.maxExpiryMinutes}` }] },
      );
    }
    return { scopes, expiresInMinutes };
  }
}
