import type { AzureCommunicationTokenCredential } from '@azure/communication-common';
import {
  createTokenCredential,
  fetchToken,
  isTokenServiceError,
  type AcsScope,
  type TokenEvent,
  type TokenResponse,
} from 'acs-token-service-client';
import { currentSession, type Session } from './auth';
import { grantedScopes } from './jwt';
import { inPlainWords, tokenOptions, waitingInPlainWords } from './tokenService';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const ui = {
  sessionStatus: element('session-status'),
  signIn: element<HTMLFormElement>('sign-in'),
  signOutRow: element('sign-out-row'),
  keyEntry: element('key-entry'),
  functionKey: element<HTMLInputElement>('function-key'),
  bearerEntry: element('bearer-entry'),
  bearerToken: element<HTMLTextAreaElement>('bearer-token'),
  getToken: element<HTMLButtonElement>('get-token'),
  askCredential: element<HTMLButtonElement>('ask-credential'),
  problem: element('problem'),
  details: element('token-details'),
  identity: element('identity'),
  scopes: element('granted-scopes'),
  expiresOn: element('expires-on'),
  countdown: element('countdown'),
  credentialAnswer: element('credential-answer'),
  log: element<HTMLOListElement>('refresh-log'),
};

let session: Session = { mode: 'easyauth', user: undefined };
let credential: AzureCommunicationTokenCredential | undefined;
let expiresAt: number | undefined;

const clockTime = (ms: number) => new Date(ms).toLocaleTimeString();

function showSession(): void {
  ui.signIn.hidden = session.mode !== 'easyauth' || session.user !== undefined;
  ui.signOutRow.hidden = session.mode !== 'easyauth' || session.user === undefined;
  ui.keyEntry.hidden = session.mode !== 'key';
  ui.bearerEntry.hidden = session.mode !== 'bearer';
  ui.sessionStatus.dataset.state =
    session.mode === 'easyauth' ? (session.user ? 'in' : 'out') : session.mode;
  ui.sessionStatus.textContent =
    session.mode === 'key'
      ? 'Key mode: the service is not behind Easy Auth.'
      : session.mode === 'bearer'
        ? 'Bearer token mode: the service checks access tokens from your OpenID Connect provider.'
        : session.user
          ? `Signed in as ${session.user}${session.roles.length ? ` (roles: ${session.roles.join(', ')})` : ' (no roles)'}`
          : 'Not signed in.';
}

function showProblem(message: string | undefined): void {
  ui.problem.hidden = message === undefined;
  ui.problem.textContent = message ?? '';
}

function addLogEntry(kind: 'refresh' | 'error' | 'waiting', message: string): void {
  const entry = document.createElement('li');
  entry.dataset.kind = kind;
  entry.textContent = `${clockTime(Date.now())} — ${message}`;
  ui.log.append(entry);
}

function formatRemaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}

function tick(): void {
  if (expiresAt !== undefined) ui.countdown.textContent = formatRemaining(expiresAt - Date.now());
}

/** Shows what the page knows about a token; never the token itself. */
function showToken(issued: TokenResponse): void {
  ui.details.hidden = false;
  ui.identity.textContent = issued.user.communicationUserId;
  ui.scopes.textContent = grantedScopes(issued.token).join(', ');
  ui.expiresOn.textContent = issued.expiresOn;
  expiresAt = Date.parse(issued.expiresOn);
  tick();
}

async function refreshSession(): Promise<void> {
  try {
    session = await currentSession();
    showSession();
  } catch {
    ui.sessionStatus.dataset.state = 'unknown';
    ui.sessionStatus.textContent = 'Could not ask /.auth/me whether you are signed in.';
  }
}

/** A 401 in Easy Auth mode means the session ended (elsewhere, or it expired): say so. */
function recheckSessionAfter(err: unknown): void {
  if (isTokenServiceError(err) && err.status === 401 && session.mode === 'easyauth') {
    void refreshSession();
  }
}

/** The boxes' values are the scope names of index.html; the service checks them anyway. */
function chosenScopes(): AcsScope[] {
  return [...document.querySelectorAll<HTMLInputElement>('input[name="scope"]:checked')].map(
    (box) => box.value as AcsScope,
  );
}

/**
 * The caller's current access token. A real app asks its sign-in library each time (MSAL's
 * `acquireTokenSilent`, oidc-client's `getUser`), so every refresh carries a fresh token; here it
 * is whatever was pasted. The package asks for headers again before every attempt.
 */
const secrets = {
  bearerToken: () => ui.bearerToken.value.trim(),
  // Key mode is for trying the service locally: never ship a function key to browsers.
  functionKey: () => ui.functionKey.value.trim(),
};

/** What the credential reports about its own refreshes, as the refresh log. */
function logCredentialEvent(event: TokenEvent): void {
  if (event.type === 'refreshed') {
    addLogEntry('refresh', `New token, expires ${clockTime(event.expiresOn.getTime())}`);
    void showCredentialToken(event.user.communicationUserId, event.expiresOn);
  } else if (event.type === 'retrying') {
    addLogEntry('waiting', waitingInPlainWords(event));
  } else if (event.type === 'unauthorized') {
    addLogEntry('error', inPlainWords(event.error, session.mode));
    recheckSessionAfter(event.error);
  } else {
    const later = event.nextTryInMs
      ? ` — keeping the current token, trying again in ${Math.ceil(event.nextTryInMs / 60_000)} min`
      : '';
    addLogEntry('error', `${inPlainWords(event.error, session.mode)}${later}`);
  }
}

/** After a refresh: what the credential now hands out (never the token itself). */
async function showCredentialToken(communicationUserId: string, expiresOn: Date): Promise<void> {
  if (!credential) return;
  const { token } = await credential.getToken();
  showToken({ user: { communicationUserId }, token, expiresOn: expiresOn.toISOString() });
}

async function getToken(): Promise<void> {
  showProblem(undefined);
  const scopes = chosenScopes();
  if (scopes.length === 0) return showProblem('Pick at least one scope.');
  credential?.dispose();
  credential = undefined;
  ui.askCredential.disabled = true;
  ui.getToken.disabled = true;
  try {
    const issued = await fetchToken(
      tokenOptions(session.mode, scopes, secrets, (event) => {
        if (event.type === 'retrying') showProblem(waitingInPlainWords(event));
      }),
    );
    showProblem(undefined);
    showToken(issued);
    credential = await createTokenCredential({
      ...tokenOptions(session.mode, scopes, secrets, logCredentialEvent),
      initialToken: issued.token,
      // In key mode every new request would create a new ACS identity: renew the one we have.
      ...(session.mode === 'key' ? { communicationUserId: issued.user.communicationUserId } : {}),
    });
    ui.askCredential.disabled = false;
    await askCredential();
  } catch (err) {
    showProblem(inPlainWords(err, session.mode));
    recheckSessionAfter(err);
  } finally {
    ui.getToken.disabled = false;
  }
}

/** What an ACS chat or calling client does before each call: ask the credential for a token. */
async function askCredential(): Promise<void> {
  if (!credential) return;
  try {
    const { expiresOnTimestamp } = await credential.getToken();
    ui.credentialAnswer.textContent = `a token that expires ${clockTime(expiresOnTimestamp)}`;
  } catch (err) {
    ui.credentialAnswer.textContent = 'no token';
    showProblem(inPlainWords(err, session.mode));
  }
}

// The SDK's proactive refresh runs on a timer that nobody awaits. The package keeps the current
// token while it has time left, so only a refresh that fails in the token's last minute reaches
// the SDK, as an unhandled rejection; the refresh log has already shown it.
window.addEventListener('unhandledrejection', (event) => {
  if (isTokenServiceError(event.reason)) event.preventDefault();
});

ui.getToken.addEventListener('click', () => void getToken());
ui.askCredential.addEventListener('click', () => void askCredential());
setInterval(tick, 1000);
void refreshSession();
