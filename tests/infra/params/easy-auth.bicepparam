// Easy Auth on without a client secret (bearer tokens only), a CORS list written loosely
// (spaces, a trailing slash, an empty entry), a role policy and the largest instance size.
using '../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param enableEasyAuth = true
param easyAuthClientId = '00000000-0000-0000-0000-00000000c11e'
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
