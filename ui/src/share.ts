// "Copy as curl", "copy as MCP call" and the NDJSON export of the window:
// the same question the page asks, in a form to paste into a terminal, an
// assistant's tool call or a ticket.

import { query, readAllPages, withCluster } from './api';
import { getToken } from './token';
import type { ViewState } from './state';
import { splitObjectKey } from './state';
import type { EventRecord } from './types';
import { formatDuration, toRfc3339 } from './time';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function origin(): string {
  return `${location.protocol}//${location.host}`;
}

// With a token kept (auth.mode: token) the command needs one too; it names
// a shell variable, so that the token itself never lands in a paste.
function authHeader(): string {
  return getToken() ? ' -H "Authorization: Bearer $KWS_TOKEN"' : '';
}

/** The REST request behind the current view: the selected diff, else the window's records. */
export function curlCommand(s: ViewState, start: number, end: number): string {
  const obj = s.object ? splitObjectKey(s.object) : null;
  let url: string;
  if (obj && s.rev) {
    const enc = encodeURIComponent;
    url = `${origin()}/api/v1/events/${enc(obj.namespace)}/${enc(obj.resourceType)}/${enc(obj.name)}/diff?${query({ from: s.from, to: s.rev })}`;
  } else if (obj) {
    const enc = encodeURIComponent;
    url = `${origin()}/api/v1/events/${enc(obj.namespace)}/${enc(obj.resourceType)}/${enc(obj.name)}`;
  } else {
    url = `${origin()}/api/v1/events?${query({
      start: toRfc3339(start),
      end: toRfc3339(end),
      namespace: s.namespace || undefined,
      resourceType: s.kinds.length === 1 ? s.kinds[0] : undefined,
      changeClass: s.status ? undefined : 'spec,event',
      limit: 1000,
    })}`;
  }
  return `curl -s${authHeader()} ${shellQuote(withCluster(url))}`;
}

/** The MCP tools/call (POST /mcp) that answers the same question. */
export function mcpCall(s: ViewState, start: number, end: number): { tool: string; args: Record<string, unknown>; command: string } {
  const obj = s.object ? splitObjectKey(s.object) : null;
  let tool: string;
  let args: Record<string, unknown>;
  if (obj && s.rev) {
    tool = 'diff_versions';
    args = { namespace: obj.namespace, resourceType: obj.resourceType, name: obj.name, toId: s.rev };
    if (s.from) args.fromId = s.from;
  } else if (obj) {
    tool = 'object_history';
    args = { namespace: obj.namespace, resourceType: obj.resourceType, name: obj.name, start: toRfc3339(start), end: toRfc3339(end) };
  } else {
    tool = 'what_changed';
    args = { window: formatDuration(end - start), end: toRfc3339(end) };
    if (s.namespace) args.namespace = s.namespace;
    if (s.kinds.length) args.resourceTypes = s.kinds.slice(0, 10);
    if (s.status) args.includeStatus = true;
  }
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } };
  const command = `curl -s${authHeader()} ${shellQuote(`${origin()}${withCluster('/mcp')}`)} -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d ${shellQuote(JSON.stringify(body))}`;
  return { tool, args, command };
}

/** Downloads every record of the window, one JSON object a line. */
export async function exportNdjson(s: ViewState, start: number, end: number): Promise<number> {
  const types = s.kinds.length ? s.kinds : [undefined];
  const lines: string[] = [];
  for (const t of types) {
    const page = await readAllPages<EventRecord>('/api/v1/events', {
      start: toRfc3339(start), end: toRfc3339(end), namespace: s.namespace || undefined,
      resourceType: t, limit: 1000, order: 'asc',
    }, 1_000_000);
    for (const rec of page.items) lines.push(JSON.stringify(rec));
  }
  const blob = new Blob([lines.join('\n') + (lines.length ? '\n' : '')], { type: 'application/x-ndjson' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `events-${toRfc3339(start)}-${toRfc3339(end)}.ndjson`.replace(/:/g, '');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  return lines.length;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
