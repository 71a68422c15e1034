import type { TokenCredential } from '@azure/identity';
import type { AzureCredentialChoice } from '../config';

/**
 * The Entra ID credential of the ACS and Table clients. In Azure that is the app's managed
 * identity, and only it: Azure SDK guidance is to use a specific credential in production rather
 * than `DefaultAzureCredential`, whose chain probes other sources first and can silently pick up a
 * credential nobody meant (learn.microsoft.com/azure/developer/javascript/sdk/authentication/
 * best-practices, "Use deterministic credentials in production environments"; and
 * learn.microsoft.com/azure/developer/javascript/sdk/credential-chains). Operators who need another
 * source (a developer's `az login`, workload identity) name it in AZURE_TOKEN_CREDENTIALS, which
 * restricts `DefaultAzureCredential` to it. First-token times of both: docs/performance.md.
 *
 * @azure/identity is loaded only here: it is slow to import and key-mode runs never need it.
 */
export async function createAzureCredential(
  choice: AzureCredentialChoice,
): Promise<TokenCredential> {
  const identity = await import('@azure/identity');
  if (choice.kind === 'chain') return new identity.DefaultAzureCredential();
  return choice.clientId
    ? new identity.ManagedIdentityCredential({ clientId: choice.clientId })
    : new identity.ManagedIdentityCredential();
}
