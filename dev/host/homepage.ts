import type { ServerResponse } from 'node:http';

/**
 * A stand-in for the Functions host's default page (azure-functions-host
 * src/WebJobs.Script.WebHost/Home.html): not the host's page, only its title line, which is what
 * people and scripts look for. The host's page is about 150 KB of its own markup and images.
 */
const PAGE = Buffer.from(
  [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Your Azure Function App is up and running.</title></head>',
    '<body><h1>Your Azure Function App is up and running.</h1>',
    '<p>The local Functions host of acs-token-service answers here as the Functions host does.</p>',
    '</body>',
    '</html>',
    '',
  ].join('\n'),
);

/**
 * What the host answers at `/` when no function took the request, for every method
 * (azure-functions-host src/WebJobs.Script.WebHost/Middleware/HomepageMiddleware.cs: after the
 * rest of the pipeline, when no `IFunctionExecutionFeature` was set and `Request.Path` is `/`):
 * the page with 200 `text/html`, or 204 when `AzureWebJobsDisableHomepage` is `true`.
 */
export function answerHomepage(res: ServerResponse, method: string, disabled: boolean): void {
  if (disabled) {
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(PAGE.length) });
  res.end(method === 'HEAD' ? undefined : PAGE);
}
