// Easy Auth on with a client secret (browser sign-in), and CORS open to any origin.
using '../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param enableEasyAuth = true
param easyAuthClientId = '00000000-0000-0000-0000-00000000c11e'
param easyAuthClientSecret = 'secret-that-must-stay-out-of-the-snapshot'
param corsAllowedOrigins = '*'
