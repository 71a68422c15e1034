/**
 * Entry point for the Functions host (`main` in package.json). The Node.js worker imports this
 * file and collects what it registers, so the app is composed here, on import, from the
 * process's environment (see `startApp` in src/app.ts).
 */
import { app } from '@azure/functions';
import { startApp } from './app';

startApp(app, process.env);
