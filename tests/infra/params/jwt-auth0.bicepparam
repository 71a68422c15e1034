// jwt mode with a third-party provider (Auth0): its issuer keeps the trailing slash, roles come
// from a namespaced custom claim, the keys' address is given instead of discovered, two
// algorithms, the token cache on (a secure value that must stay out of the snapshot) and CORS
// open to any origin.
using '../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param authMode = 'jwt'
param oidcIssuer = 'https://example-tenant.us.auth0.com/'
param oidcAudience = 'https://api.example.com, https://tokens.example.com'
param oidcAlgorithms = [
  'RS256'
  'PS256'
]
param oidcRolesClaim = 'https://example.com/roles'
param oidcJwksUri = 'https://example-tenant.us.auth0.com/.well-known/jwks.json'
param oidcClockSkewSeconds = 30
param tokenCacheKey = 'c2VjcmV0LXRoYXQtbXVzdC1zdGF5LW91dC1vZi1pdCE='
param corsAllowedOrigins = '*'
