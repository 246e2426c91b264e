// Check 6: "what changed between T1 and T2" with its own moments. T1 between
// the create and the scale, T2 between the scale and the image change: the
// Deployment is listed with an update and no create; the moments are in the
// URL, and that link opened afresh shows the same T1 and T2.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { between, inputMoment, localInput, setNamespace, tid } from "./hooks.mjs";

const rowSel = (object) => `${tid("changes-row")}[data-object="${object}"]`;

export async function changesBetween(ctx) {
  const { browser, facts, errors, report, shot } = ctx;
  const { create, scale, image } = facts.records;
  const t1 = between(create, scale);
  const t2 = between(scale, image);
  const object = `${facts.namespace}/deployments/${facts.deployment}`;
  await report.check(`what changed between ${localInput(t1)}Z and ${localInput(t2)}Z: the scale alone, kept in the URL`, async () => {
    const page = await freshPage(browser, errors, "changes");
    let url;
    try {
      await page.goto(facts.base);
      await ready(page);
      await setNamespace(page, facts.namespace);
      await ready(page);
      await page.locator(tid("changes-t1")).fill(localInput(t1));
      await page.locator(tid("changes-t2")).fill(localInput(t2));
      await page.locator(tid("changes-apply")).click();
      await page.waitForURL((u) => u.searchParams.has("t1") && u.searchParams.has("t2"));
      await ready(page, rowSel(object));
      const verbs = await page.locator(rowSel(object)).locator("td").nth(1).innerText();
      assert(/update/.test(verbs) && !/create/.test(verbs), `the Deployment's verbs are "${verbs}"`);
      await page.locator(tid("changes-view")).scrollIntoViewIfNeeded();
      await shot(page, "06-changes");
      url = page.url();
    } finally {
      await page.context().close();
    }
    const again = await freshPage(browser, errors, "changes link");
    try {
      await again.goto(url);
      await ready(again, rowSel(object));
      const shown = [inputMoment(await again.locator(tid("changes-t1")).inputValue()),
        inputMoment(await again.locator(tid("changes-t2")).inputValue())];
      assert(shown[0] === localInput(t1) && shown[1] === localInput(t2),
        `the link shows T1 ${shown[0]} and T2 ${shown[1]}`);
    } finally {
      await again.context().close();
    }
  });
}
