/**
 * Entry point for the Functions host (`main` in package.json). Settings are parsed here, once,
 * so a bad setting stops the app at start-up with a message naming it, not on the first request.
 */
import { services } from './runtime';
import './functions/token';
import './functions/revoke';
import './functions/user';
import './functions/health';
import './functions/preflight';

services();
