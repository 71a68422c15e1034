// jwt mode without an audience: any token of the issuer would do, so the deployment stops.
using '../../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param authMode = 'jwt'
param oidcIssuer = 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000b2/v2.0'
