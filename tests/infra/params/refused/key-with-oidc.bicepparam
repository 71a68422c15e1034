// key mode with an OIDC issuer: a setting of another mode, which the app would refuse at start-up.
using '../../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param oidcIssuer = 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000b2/v2.0'
