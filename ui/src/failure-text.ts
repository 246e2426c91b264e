// What the page says when a call failed: the drawer, "as of", "what
// changed" and the error banner share these words, so that a refusal reads
// the same everywhere. A 401 points to the token form (api.ts has already
// shown it), a 403 tells whose account may not read what, and any other
// failure keeps the server's own sentence, without the request behind it.

import { ApiError } from './api';
import { h } from './dom';

// The server words a refusal as "<user> may not get <type> in namespace
// <ns>" or "<user> may get none of the recorded resource types ..."
// (rest/access_answer.cpp); the user name may hold spaces (auth.mode: proxy).
const REFUSAL = /^(.+?) (may (?:not|get none of) .+)$/s;

function withStop(text: string): string {
  const s = text.trim();
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** A 403's sentence, addressed to the one whose account was refused. */
export function refusalText(reason: string): string {
  const m = REFUSAL.exec(reason.trim());
  return withStop(m ? `Your account (${m[1]}) ${m[2]}` : `Not allowed: ${reason}`);
}

/** One sentence for a failed load. */
export function failureText(e: unknown): string {
  if (!(e instanceof ApiError)) return withStop(e instanceof Error ? e.message : String(e));
  if (e.status === 401) {
    return e.sentToken
      ? 'The server refused the bearer token: enter another one in the token form at the top of the page.'
      : 'A bearer token is needed to show this: enter one in the token form at the top of the page.';
  }
  if (e.status === 403) return refusalText(e.reason);
  if (e.status === 0) return withStop(`The server could not be reached (${e.reason})`);
  return withStop(e.reason === e.statusLine
    ? `The server answered ${e.statusLine}`
    : `The server answered ${e.statusLine}: ${e.reason}`);
}

/** True for a 401: the token form asks, nothing else needs to say so. */
export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401;
}

/**
 * The paragraph a panel shows instead of what it could not load;
 * `data-status` is the HTTP status (0: the server was not reached).
 */
export function failureNote(e: unknown): HTMLElement {
  return h('p', {
    class: 'error', testid: 'load-error',
    'data-status': e instanceof ApiError ? e.status : undefined,
    // The request that failed, for whoever debugs; the text stays one sentence.
    title: e instanceof Error ? e.message : undefined,
    text: failureText(e),
  });
}
