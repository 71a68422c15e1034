import type { Caller } from './caller';
import { AppError } from './errors';
import type { AcsScope } from './scopes';

/** What an Easy Auth role may be granted (`TOKEN_POLICY`). */
export interface RoleRule {
  scopes: AcsScope[];
  defaultScopes: AcsScope[];
  maxExpiryMinutes: number;
}

interface TokenPolicyRules {
  allowedScopes: readonly AcsScope[];
  defaultScopes: readonly AcsScope[];
  defaultExpiryMinutes: number;
  maxExpiryMinutes: number;
  /** Easy Auth role → what it may be granted; without it the rules above apply to everyone. */
  rolePolicy?: Record<string, RoleRule> | undefined;
}

/** What a caller asks for; either may be left to the defaults. */
interface TokenAsk {
  scopes?: AcsScope[] | undefined;
  expiresInMinutes?: number | undefined;
}

/** What a caller is granted: the scopes and lifetime that go to ACS. */
export interface TokenGrant {
  scopes: AcsScope[];
  expiresInMinutes: number;
}

/** What one caller may be granted (not to be confused with its rate limit, `CallerLimits`). */
interface Entitlement {
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

  /** What a caller may be granted: the union of what its roles allow, or the service-wide rules. */
  private entitlementOf(caller: Caller): Entitlement {
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

  grant(request: TokenAsk, caller: Caller): TokenGrant {
    const entitled = this.entitlementOf(caller);
    if (entitled.allowed.length === 0) {
      throw new AppError('forbidden', 'None of your roles may be granted an ACS token here.');
    }
    const scopes = request.scopes ?? [...entitled.defaults];
    const refused = scopes.filter((s) => !entitled.allowed.includes(s));
    if (refused.length > 0) {
      throw new AppError(
        'scope_not_allowed',
        `You may not be granted ${refused.map((s) => `"${s}"`).join(', ')}; allowed scopes: ${entitled.allowed.join(', ')}.`,
        { errors: [{ field: 'scopes', message: `not allowed: ${refused.join(', ')}` }] },
      );
    }
    const expiresInMinutes = Math.min(
      request.expiresInMinutes ?? this.rules.defaultExpiryMinutes,
      // A default longer than the caller's cap is shortened; an explicit ask is refused below.
      request.expiresInMinutes === undefined ? entitled.maxExpiryMinutes : Infinity,
    );
    if (expiresInMinutes > entitled.maxExpiryMinutes) {
      throw new AppError(
        'expiry_not_allowed',
        `expiresInMinutes may be at most ${entitled.maxExpiryMinutes} for you.`,
        {
          errors: [{ field: 'expiresInMinutes', message: `at most ${entitled.maxExpiryMinutes}` }],
        },
      );
    }
    return { scopes, expiresInMinutes };
  }
}
