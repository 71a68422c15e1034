import type { TableClient } from '@azure/data-tables';
import { createHttpHeaders, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { createTableClient, TABLE_RETRY_OPTIONS } from '../../src/infra/tableIdentityMap';

/**
 * Counts the attempts the client's own retry policy makes: a policy at the end of its pipeline
 * answers every attempt 503 in place of the network, so no request leaves the process.
 */
async function attemptsOf(client: TableClient): Promise<number> {
  let attempts = 0;
  const unavailable: PipelinePolicy = {
    name: 'test-unavailable',
    sendRequest: (request) => {
      attempts += 1;
      return Promise.resolve({ request, status: 503, headers: createHttpHeaders() });
    },
  };
  client.pipeline.addPolicy(unavailable, { phase: 'Sign', afterPolicies: [] });
  await expect(client.getEntity('p', 'r')).rejects.toMatchObject({ statusCode: 503 });
  return attempts;
}

describe('Table client retries', () => {
  it('are the same with a connection string and with a managed identity', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const byKey = await createTableClient({
      kind: 'connectionString',
      table: 'identities',
      connectionString: `DefaultEndpointsProtocol=https;AccountName=acstokens;AccountKey=${key};EndpointSuffix=core.windows.net`,
    });
    // What a managed identity would give, without reaching any identity endpoint.
    const credential = {
      getToken: () =>
        Promise.resolve({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const byIdentity = await createTableClient(
      {
        kind: 'managedIdentity',
        table: 'identities',
        endpoint: new URL('https://acstokens.table.core.windows.net'),
      },
      credential,
    );
    const expected = 1 + TABLE_RETRY_OPTIONS.maxRetries;
    expect(await attemptsOf(byKey)).toBe(expected);
    expect(await attemptsOf(byIdentity)).toBe(expected);
  });
});
