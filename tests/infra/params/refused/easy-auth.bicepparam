// easyauth mode on Flex Consumption, where Easy Auth is not documented to be enforced: the
// deployment must stop with a message pointing to jwt mode with Entra ID.
using '../../../../infra/main.bicep'

param environmentName = 'infra-test'
param location = 'eastus2'
param authMode = 'easyauth'
