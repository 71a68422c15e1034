/**
 * The service's version, as published in the OpenAPI document. Kept beside package.json's
 * (a unit test holds them equal) because neither Azure nor the bundle sees npm's environment.
 */
export const SERVICE_VERSION = '0.1.0';
