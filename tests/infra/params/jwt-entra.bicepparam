// jwt mode with Microsoft Entra ID (workforce): the v2.0 issuer of one tenant and the API's
// client ID as audience (docs/deploy.md), a role policy, a CORS list written loosely (spaces, a
// trailing slash, an empty entry) and the largest instance size.
using '../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param authMode = 'jwt'
param oidcIssuer = 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000b2/v2.0'
param oidcAudience = '00000000-0000-0000-0000-00000000c11e'
param corsAllowedOrigins = ' https://app.example.com/, https://admin.example.com:8443 ,'
param tokenPolicy = {
  roles: {
    guest: {
      scopes: [
        'voip.join'
      ]
      maxExpiryMinutes: 60
    }
  }
}
param instanceMemoryMB = 4096
