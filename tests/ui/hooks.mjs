// Selectors of the page's test hooks (ui/README.md, "Test hooks") and the
// UTC text of its datetime-local inputs.
export const tid = (id) => `[data-testid="${id}"]`;
export const laneSel = (object) => `${tid("lane")}[data-object="${object}"]`;
export const tickSel = (record) => `${tid("tick")}[data-record="${record}"]`;
export const drawerSel = (record) => `${tid("drawer")}[data-record="${record}"]`;
export const asofRowSel = (object) => `${tid("asof-row")}[data-object="${object}"]`;

// `YYYY-MM-DDTHH:mm:ss` in UTC, the moment floored to the second: what a
// datetime-local input with seconds holds.
export function localInput(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}

// What a datetime-local input's value says, as `localInput` writes it: the
// input leaves ":00" seconds out of its value (`2026-12-04T21:09`).
export function inputMoment(value) {
  return value.length === 16 ? `${value}:00` : value;
}

// The moment between two records' times, floored to the second; run.sh
// leaves 2 s between them, so it is strictly after the first and before the
// second.
export function between(a, b) {
  return Math.floor((Date.parse(a.timestamp) + Date.parse(b.timestamp)) / 2000) * 1000;
}

// Filters the page by namespace through its input, as a person would.
export async function setNamespace(page, ns) {
  const input = page.locator(tid("namespace-input"));
  await input.fill(ns);
  await input.press("Enter");
  await page.waitForURL((u) => u.searchParams.get("namespace") === ns);
}
