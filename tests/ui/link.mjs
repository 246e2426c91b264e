// Check 3: the URL is the view. A link read from the address bar after
// getting somewhere by clicks, opened in a fresh browser context, shows the
// same namespace, window, lanes and selected record.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { drawerSel, tid } from "./hooks.mjs";

// What a person sees of the view, read through the hooks.
async function readView(page) {
  return page.evaluate(() => {
    const t = (id) => `[data-testid="${id}"]`;
    const one = (id) => document.querySelector(t(id));
    const text = (id) => (one(id) ? one(id).innerText.trim() : null);
    const pressed = document.querySelector(`${t("window-preset")}[aria-pressed="true"]`);
    const ruler = one("ruler");
    const drawer = one("drawer");
    return {
      namespace: one("namespace-input") && one("namespace-input").value,
      windowPreset: pressed ? pressed.dataset.window : null,
      rulerStart: ruler && ruler.dataset.start,
      rulerEnd: ruler && ruler.dataset.end,
      lanes: [...document.querySelectorAll(t("lane"))].map((l) => l.dataset.object),
      drawerRecord: drawer && drawer.dataset.record,
      recordMessage: text("record-message"),
      recordMeta: text("record-meta"),
      diffMode: one("diff-mode") && one("diff-mode").dataset.mode,
    };
  });
}

export async function sharedLink(ctx, page) {
  const { browser, facts, errors, shot, report } = ctx;
  const { image } = facts.records;
  await report.check("a link copied from the address bar reproduces the view in a fresh page", async () => {
    const url = page.url();
    const params = new URL(url).searchParams;
    assert(params.get("rev") === image.id && params.get("namespace") === facts.namespace,
      `the address bar does not hold the view: ${url}`);
    const before = await readView(page);
    const other = await freshPage(browser, errors, "link");
    try {
      await other.goto(url);
      await ready(other, `${drawerSel(image.id)} ${tid("diff")}`);
      const after = await readView(other);
      for (const key of Object.keys(before)) {
        assert(JSON.stringify(before[key]) === JSON.stringify(after[key]),
          `${key} differs: ${JSON.stringify(before[key])} then ${JSON.stringify(after[key])}`);
      }
      assert(after.drawerRecord === image.id && after.namespace === facts.namespace,
        `the fresh page shows record ${after.drawerRecord} of ${after.namespace}`);
      await shot(other, "03-link");
    } finally {
      await other.context().close();
    }
  });
}
