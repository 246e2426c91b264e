// Check 5: the time the server was stopped is shaded on the ruler as a
// coverage gap with reason "server down", over the outage run.sh made.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { localInput, setNamespace, tid } from "./hooks.mjs";

export async function coverageGap(ctx) {
  const { browser, facts, errors, shot, report } = ctx;
  const gapSel = `${tid("coverage-gap")}[data-reason="server down"]`;
  await report.check("the ruler shades the outage as a coverage-gap with reason server down", async () => {
    const page = await freshPage(browser, errors, "gap");
    try {
      await page.goto(facts.base);
      await ready(page);
      await setNamespace(page, facts.namespace);
      // ±1 min around the outage: it is a few seconds, wide enough to see.
      await page.locator(tid("around-input")).fill(localInput(Date.parse(facts.outage.stoppedAt)));
      await page.locator(tid("around-minutes")).fill("1");
      await page.locator(tid("around-apply")).click();
      await page.waitForURL((u) => u.searchParams.has("start") && u.searchParams.has("end"));
      await ready(page, gapSel);
      const gaps = await page.locator(gapSel).evaluateAll((els) => els.map((e) => ({
        start: Date.parse(e.dataset.start), end: Date.parse(e.dataset.end),
      })));
      const stopped = Date.parse(facts.outage.stoppedAt);
      const restarted = Date.parse(facts.outage.restartedAt);
      assert(gaps.some((g) => g.start <= restarted && g.end >= stopped),
        `no shaded gap overlaps the outage ${facts.outage.stoppedAt}…${facts.outage.restartedAt}: `
        + JSON.stringify(gaps.map((g) => [new Date(g.start), new Date(g.end)])));
      if (facts.outage.gap) {
        const { start, end } = facts.outage.gap;
        assert(gaps.some((g) => Math.abs(g.start - Date.parse(start)) < 1000 && Math.abs(g.end - Date.parse(end)) < 1000),
          `no shaded gap is the server's own ${start}…${end}`);
      }
      const box = await page.locator(gapSel).first().boundingBox();
      assert(box && box.width > 0 && box.height > 0, "the shaded gap has no area on screen");
      await shot(page, "05-coverage-gap");
    } finally {
      await page.context().close();
    }
  });
}
