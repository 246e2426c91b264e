// Reads a window's records as time slices fetched side by side: one paged
// query after another made first render wait for 20+ round trips in a row.
// Records bunch up in time (a rollout, a bulk create), so slices are also
// split while they are read: a worker with nothing to do takes the far part
// of a slice that still has more pages.

import { readPage } from './api';
import { parseTime, toRfc3339 } from './time';
import type { EventRecord } from './types';

const WORKERS = 4;

type Params = Record<string, string | number | undefined>;

interface Slice {
  params: Params;
  from: number;
  to: number;
}

export interface SlicedResult {
  records: EventRecord[];
  truncated: boolean;
}

/**
 * Every record of [start, end] of each query in `queries` (the `start`,
 * `end` and `continue` parameters are set here), at most `maxItems`, in
 * record id order (the global order of the store); the bounds are
 * inclusive, so a record on a slice boundary is read twice and kept once.
 */
export async function loadSliced(
  queries: Params[],
  start: number,
  end: number,
  maxItems: number,
  signal: AbortSignal,
  onProgress: (count: number) => void,
): Promise<SlicedResult> {
  const queue: Slice[] = [];
  const step = (end - start) / WORKERS;
  for (const params of queries) {
    for (let i = 0; i < WORKERS; i++) {
      const from = Math.floor(start + i * step);
      const to = i === WORKERS - 1 ? end : Math.floor(start + (i + 1) * step);
      queue.push({ params, from, to });
    }
  }
  const byId = new Map<string, EventRecord>();
  const waiting: (() => void)[] = [];
  let busy = 0;
  let truncated = false;
  let failure: unknown = null;

  const wakeAll = (): void => { waiting.splice(0).forEach((w) => w()); };

  const readSlice = async (slice: Slice): Promise<void> => {
    let { from, to } = slice;
    let cont: string | undefined;
    for (;;) {
      const page = await readPage<EventRecord>('/api/v1/events',
        { ...slice.params, start: toRfc3339(from), end: toRfc3339(to), continue: cont }, signal);
      for (const r of page.items) byId.set(r.id, r);
      onProgress(byId.size);
      if (!page.next || failure) return;
      if (byId.size >= maxItems) {
        truncated = true;
        return;
      }
      const first = parseTime(page.items[0].timestamp);
      const last = parseTime(page.items[page.items.length - 1].timestamp);
      // Someone is idle: keep about two more pages' worth of time and hand
      // over the rest. Only when the page moved on, or a restart at `last`
      // would read the same page again.
      if (waiting.length && !queue.length && last > from) {
        const keep = Math.min(to, last + 2 * Math.max(1, last - first));
        if (keep < to) {
          queue.push({ params: slice.params, from: keep, to });
          waiting.shift()?.();
          from = last;
          to = keep;
          cont = undefined;
          continue;
        }
      }
      cont = page.next;
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (failure || truncated) return;
      const slice = queue.shift();
      if (!slice) {
        if (busy === 0) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      busy++;
      try {
        await readSlice(slice);
      } catch (e) {
        failure ??= e;
      } finally {
        busy--;
        if (busy === 0 && !queue.length) wakeAll();
      }
      if (failure || truncated) wakeAll();
    }
  };

  await Promise.all(Array.from({ length: WORKERS }, worker));
  if (failure) throw failure;
  const records = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { records: records.slice(0, maxItems), truncated };
}
