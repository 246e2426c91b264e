// Requests to the REST API (docs/api.md). Every call goes to an absolute
// /api/v1 path, so that the page works wherever the server serves it, and
// carries the tab's bearer token when one is kept (auth.mode: token) and,
// at a hub, the cluster the view is about.

import { clearToken, getToken } from './token';
import type {
  BlameAnswer, ChangeEntry, CoverageAnswer, DiffAnswer, EventRecord, ObjectHistory,
} from './types';

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when the server was not reached. */
    public status: number,
    message: string,
    /** The server's own error sentence, else the status line. */
    public reason: string = message,
    /** `404 Not Found`: what the answer said when its body had no sentence. */
    public statusLine: string = String(status),
    /** The call carried the tab's token, so a 401 means the token was refused. */
    public sentToken = false,
  ) {
    super(message);
  }
}

/** What the page learns from answers besides their bodies. */
export interface ApiListener {
  /** A 401; `sentToken`: the call carried a token, which is now forgotten. */
  unauthorized(reason: string, sentToken: boolean): void;
  /** The server took the token (an answer, or a 403 for what it may not read). */
  authorized(): void;
  /** The answer left out resource types or namespaces the caller may not read. */
  filtered(resources: string[], namespaces: string[]): void;
}

let listener: Partial<ApiListener> = {};

// At a hub every data call names its cluster; at a server none does.
let cluster: string | null = null;

export function setCluster(name: string | null): void {
  cluster = name;
}

/** `url` with the view's cluster, when there is one. */
export function withCluster(url: string): string {
  if (!cluster) return url;
  return `${url}${url.includes('?') ? '&' : '?'}cluster=${encodeURIComponent(cluster)}`;
}

/**
 * The clusters a hub answers for (`GET /api/v1/clusters`); null at a server,
 * which lists none, or when the answer is not a list (a 401 in token mode).
 */
export async function getClusters(): Promise<string[] | null> {
  try {
    const res = await fetch('/api/v1/clusters', { headers: { Accept: 'application/json' } });
    if (!res.ok) return null;
    const body = (await res.json()) as { clusters?: { name?: unknown }[] };
    const names = (body.clusters ?? []).map((c) => c.name).filter((n): n is string => typeof n === 'string');
    return names.length ? names : null;
  } catch {
    return null;
  }
}

export function listenToApi(l: Partial<ApiListener>): void {
  listener = l;
}

function listed(res: Response, header: string): string[] {
  return (res.headers.get(header) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<{ body: T; res: Response }> {
  const url = withCluster(path);
  const token = getToken();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { signal, headers });
  } catch (e) {
    // A call given up stays an AbortError, which every caller ignores.
    if (signal?.aborted) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new ApiError(0, `${url}: ${why}`, why, '');
  }
  // An answer to a token that was replaced meanwhile (or to a call given
  // up) neither forgets the newer token nor asks for one again.
  const current = getToken() === token && !signal?.aborted;
  if (!res.ok) {
    const statusLine = `${res.status} ${res.statusText}`.trim();
    let reason = statusLine;
    let text = reason;
    try {
      const err = (await res.json()) as { error?: string };
      if (err.error) {
        reason = err.error;
        text = `${res.status}: ${err.error}`;
      }
    } catch {
      // not JSON: keep the status line
    }
    if (current && res.status === 401) {
      if (token) clearToken();
      listener.unauthorized?.(reason, token !== null);
    } else if (current && token && res.status === 403) {
      listener.authorized?.();
    }
    throw new ApiError(res.status, `${url}: ${text}`, reason, statusLine, token !== null);
  }
  if (current) {
    if (token) listener.authorized?.();
    const resources = listed(res, 'X-Filtered-Resources');
    const namespaces = listed(res, 'X-Filtered-Namespaces');
    if (resources.length || namespaces.length) listener.filtered?.(resources, namespaces);
  }
  return { body: (await res.json()) as T, res };
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  return p.toString();
}

export interface OnePage<T> {
  items: T[];
  /** The token of the next page, null when this was the last one. */
  next: string | null;
}

/** One page of a paged listing. */
export async function readPage<T>(
  path: string,
  params: Record<string, string | number | undefined | null>,
  signal?: AbortSignal,
): Promise<OnePage<T>> {
  const { body, res } = await getJson<T[]>(`${path}?${query(params)}`, signal);
  const more = res.headers.get('X-Has-More') === 'true';
  const cont = res.headers.get('X-Continue');
  return { items: body, next: more && cont && body.length ? cont : null };
}

export interface PageResult<T> {
  items: T[];
  truncated: boolean;
}

/**
 * Reads every page of a paged listing (/events, /snapshot, /changes) up to
 * `maxItems`, following X-Continue while X-Has-More says so.
 */
export async function readAllPages<T>(
  path: string,
  params: Record<string, string | number | undefined | null>,
  maxItems: number,
  signal?: AbortSignal,
  onPage?: (count: number) => void,
): Promise<PageResult<T>> {
  const items: T[] = [];
  let cont: string | null = null;
  for (;;) {
    const q = query({ ...params, continue: cont ?? undefined });
    const { body, res } = await getJson<T[]>(`${path}?${q}`, signal);
    for (const it of body) items.push(it);
    onPage?.(items.length);
    const more = res.headers.get('X-Has-More') === 'true';
    cont = res.headers.get('X-Continue');
    if (!more || !cont || body.length === 0) return { items, truncated: false };
    if (items.length >= maxItems) return { items, truncated: true };
  }
}

export const PAGE_LIMIT = 1000;

export function eventsUrlParams(
  start: string, end: string, namespace: string, resourceType?: string,
): Record<string, string | number | undefined> {
  return {
    start, end, namespace: namespace || undefined, resourceType, limit: PAGE_LIMIT, order: 'asc',
  };
}

export function objectPath(namespace: string, resourceType: string, name: string): string {
  const enc = encodeURIComponent;
  return `/api/v1/events/${enc(namespace)}/${enc(resourceType)}/${enc(name)}`;
}

export async function getRecord(id: string, signal?: AbortSignal): Promise<EventRecord> {
  return (await getJson<EventRecord>(`/api/v1/records/${encodeURIComponent(id)}`, signal)).body;
}

export async function getHistory(
  ns: string, type: string, name: string, signal?: AbortSignal,
): Promise<ObjectHistory> {
  return (await getJson<ObjectHistory>(objectPath(ns, type, name), signal)).body;
}

export async function getDiff(
  ns: string, type: string, name: string, from: string | null, to: string, signal?: AbortSignal,
): Promise<DiffAnswer> {
  const q = query({ from, to });
  return (await getJson<DiffAnswer>(`${objectPath(ns, type, name)}/diff?${q}`, signal)).body;
}

export async function getBlame(
  ns: string, type: string, name: string, at: string, signal?: AbortSignal,
): Promise<BlameAnswer> {
  const q = query({ at });
  return (await getJson<BlameAnswer>(`${objectPath(ns, type, name)}/blame?${q}`, signal)).body;
}

export async function getCoverage(start: string, end: string, signal?: AbortSignal): Promise<CoverageAnswer> {
  return (await getJson<CoverageAnswer>(`/api/v1/coverage?${query({ start, end })}`, signal)).body;
}

export async function getChanges(
  start: string, end: string, namespace: string, resourceType: string | undefined, signal?: AbortSignal,
): Promise<PageResult<ChangeEntry>> {
  return readAllPages<ChangeEntry>(
    '/api/v1/changes',
    // One page of 1000, not five of 200: the server works out the whole
    // window's changes for every page, so each page costs as much as all.
    { start, end, namespace: namespace || undefined, resourceType, limit: PAGE_LIMIT },
    1000,
    signal,
  );
}
