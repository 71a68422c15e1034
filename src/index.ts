/**
 * Entry point for the Functions host (`main` in package.json). Settings are parsed here, once,
 * so a bad setting stops the app at start-up with a message naming it, not on the first request.
 */
import { services } from './runtime';
import './functions/token';
import './functions/teamsToken';
import './functions/revoke';
import './functions/user';
import './functions/health';
import './functions/openapi';
import './functions/identityPool';

const { config } = services();

// Stated once at start-up, so an operator can see what this instance will and will not do.
// eslint-disable-next-line no-console
console.info(
  JSON.stringify({
    event: 'startup',
    authMode: config.authMode,
    acsAuth: config.acs.kind,
    tokenCache:
      config.authMode === 'key'
        ? 'off (key mode)'
        : config.tokenCacheKey
          ? 'on'
          : 'off (TOKEN_CACHE_KEY not set)',
    corsOrigins: config.corsAllowedOrigins === '*' ? '*' : config.corsAllowedOrigins.length,
    pool: config.pool
      ? { size: config.pool.size, quotaShare: config.pool.quotaShare, grant: config.pool.grant }
      : 'off (POOL_SIZE is 0)',
  }),
);
