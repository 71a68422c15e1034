// Only what azd always passes: every other parameter keeps its default (key mode, no CORS).
using '../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
