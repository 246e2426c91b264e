// The bearer token of this tab (auth.mode: token). sessionStorage keeps it
// across reloads of the tab and drops it with the tab; it is never written
// to localStorage nor put in the URL, so it is neither left on disk for
// other tabs nor shared with a link.

const KEY = 'kws.bearerToken';
// Where storage is refused (a sandboxed frame, privacy settings) the token
// lasts as long as the page.
let fallback: string | null = null;

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) || null;
  } catch {
    return fallback;
  }
}

export function setToken(token: string): void {
  fallback = token;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // kept in `fallback`
  }
}

export function clearToken(): void {
  fallback = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
