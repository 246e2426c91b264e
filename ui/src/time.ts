// Time helpers. The page shows and takes every time in UTC: incident notes
// and the API speak RFC 3339 UTC, and a local offset would only confuse a
// pasted link.

export const PRESETS = ['15m', '1h', '6h', '1d', '7d', '14d'] as const;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "15m", "1h", "7d" to milliseconds; null when it is no duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** RFC 3339 with any number of fraction digits to epoch milliseconds. */
export function parseTime(text: string): number {
  // Date.parse is not required to take nanoseconds: cut the fraction to ms.
  const cut = text.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(cut);
}

export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Value of an <input type="datetime-local">, read as UTC. */
export function toLocalInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const ms = Date.parse(value.length === 16 ? `${value}:00Z` : `${value}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** Short label for a time, precise enough for the window's span. */
export function formatTime(ms: number, spanMs = 0): string {
  const iso = new Date(ms).toISOString();
  if (spanMs > 2 * UNIT_MS.d) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return `${iso.slice(11, 19)}`;
}

export function formatFull(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Duration in the MCP tools' syntax (90s, 30m, 2h, 7d). */
export function formatDuration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
