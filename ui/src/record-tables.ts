// The drawer's tables: the Kubernetes Events about the object and the blame
// of its fields at the record's time.

import { h } from './dom';
import { asObject } from './json-pointer';
import type { BlameAnswer, EventRecord } from './types';
import { formatFull, parseTime } from './time';

interface EventFields {
  reason?: string;
  type?: string;
  count?: number;
  message?: string;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { lastObservedTime?: string; count?: number };
}

/** One row per Event (its latest version: the count grows in place). */
export function renderEventsTable(related: EventRecord[]): HTMLElement {
  const latest = new Map<string, EventRecord>();
  for (const rec of related) latest.set(rec.uid ?? rec.id, rec);
  const rows = [...latest.values()]
    .map((rec) => {
      const ev = (asObject(rec.objectChanges) ?? {}) as EventFields;
      const first = ev.firstTimestamp ?? ev.eventTime ?? rec.timestamp;
      const last = ev.series?.lastObservedTime ?? ev.lastTimestamp ?? ev.eventTime ?? rec.timestamp;
      return { rec, ev, first, last };
    })
    .sort((a, b) => parseTime(b.last) - parseTime(a.last));
  if (!rows.length) {
    return h('div', { testid: 'events-table', class: 'muted', text: 'No Kubernetes Events about this object.' });
  }
  return h('table', { class: 'events', testid: 'events-table' },
    h('thead', {}, h('tr', {},
      h('th', { text: 'type' }), h('th', { text: 'reason' }), h('th', { text: 'count' }),
      h('th', { text: 'first seen' }), h('th', { text: 'last seen' }), h('th', { text: 'message' }))),
    h('tbody', {}, rows.map(({ rec, ev, first, last }) => {
      const type = ev.type ?? rec.type ?? '';
      return h('tr', { testid: 'event-row', class: type === 'Warning' ? 'warning' : '', 'data-record': rec.id },
        h('td', { text: type }),
        h('td', { text: ev.reason ?? rec.reason ?? '' }),
        h('td', { text: String(ev.series?.count ?? ev.count ?? rec.count ?? 1) }),
        h('td', { class: 'nowrap', text: formatFull(parseTime(first)) }),
        h('td', { class: 'nowrap', text: formatFull(parseTime(last)) }),
        h('td', { text: ev.message ?? rec.message ?? '' }));
    })));
}

export function renderBlame(
  blame: BlameAnswer,
  changed: Set<string>,
  openRecord: (id: string) => void,
): HTMLElement {
  const filter = h('input', { type: 'search', placeholder: 'filter paths', class: 'blame-filter', 'aria-label': 'filter blame paths' });
  const body = h('tbody');
  const draw = () => {
    const needle = filter.value.toLowerCase();
    body.replaceChildren(...blame.fields
      .filter((f) => !needle || f.path.toLowerCase().includes(needle) || (f.manager ?? '').toLowerCase().includes(needle))
      .map((f) => {
        const link = h('a', { href: '#', text: f.id, title: 'open this version' });
        link.addEventListener('click', (e) => {
          e.preventDefault();
          openRecord(f.id);
        });
        return h('tr', { testid: 'blame-row', 'data-path': f.path, class: changed.has(f.path) ? 'changed' : '' },
          h('td', { class: 'mono', text: f.path }),
          h('td', { text: f.manager ?? '' }),
          h('td', { text: f.verb }),
          h('td', { class: 'nowrap', text: formatFull(parseTime(f.timestamp)) }),
          h('td', { class: 'mono' }, link));
      }));
  };
  filter.addEventListener('input', draw);
  draw();
  return h('div', { testid: 'blame', class: 'blame' },
    h('p', { class: 'muted', text: `Version ${blame.version.id} (${formatFull(parseTime(blame.version.timestamp))}): who last set each field.` }),
    filter,
    h('table', { class: 'blame-table' },
      h('thead', {}, h('tr', {},
        h('th', { text: 'path' }), h('th', { text: 'manager' }), h('th', { text: 'verb' }),
        h('th', { text: 'when' }), h('th', { text: 'version' }))),
      body));
}
