// Checks 1 and 2: the page loads without console errors; the Deployment's
// create, scale and image change show as its lane's ticks, and the drawer
// of each names what changed with the old and new values.
import { ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { drawerSel, laneSel, localInput, setNamespace, tickSel, tid } from "./hooks.mjs";

export async function pageLoads(ctx, page) {
  const { facts, errors, shot, report } = ctx;
  await report.check("the page loads and renders (body[data-ready=true])", async () => {
    await page.goto(facts.base);
    await ready(page, tid("ruler"));
    await shot(page, "01-loaded");
  });
  await report.check("no console error or uncaught exception while loading", async () => {
    assert(errors.length === 0, errors.join(" | "));
  });
}

// Leaves `page` showing the image change in the drawer, reached by clicks
// only: the namespace typed in, the window ±1 min around the scale, the tick.
export async function deploymentLane(ctx, page) {
  const { facts, shot, report } = ctx;
  const { create, scale, image } = facts.records;
  const object = `${facts.namespace}/deployments/${facts.deployment}`;
  const lane = page.locator(laneSel(object));

  const shown = await report.check(`the lane of ${object} is shown ±1 min around the scale`, async () => {
    await setNamespace(page, facts.namespace);
    await ready(page, laneSel(object));
    await page.locator(tid("around-input")).fill(localInput(Date.parse(scale.timestamp)));
    await page.locator(tid("around-minutes")).fill("1");
    await page.locator(tid("around-apply")).click();
    await page.waitForURL((u) => u.searchParams.has("start") && u.searchParams.has("end"));
    await ready(page, laneSel(object));
    const ruler = page.locator(tid("ruler"));
    const start = Date.parse(await ruler.getAttribute("data-start"));
    const end = Date.parse(await ruler.getAttribute("data-end"));
    assert(start <= Date.parse(create.timestamp) && end >= Date.parse(image.timestamp),
      `the window ${new Date(start).toISOString()}…${new Date(end).toISOString()} `
      + `does not hold ${create.timestamp}…${image.timestamp}`);
    await shot(page, "02-lane");
  });
  if (!shown) return false;

  await report.check("the lane has the create, scale and image ticks (verb, spec class)", async () => {
    for (const [rec, verb] of [[create, "create"], [scale, "update"], [image, "update"]]) {
      const tick = lane.locator(tickSel(rec.id));
      assert(await tick.count() === 1, `no tick with data-record=${rec.id} (${rec.message})`);
      assert(await tick.getAttribute("data-verb") === verb, `tick ${rec.id} is not data-verb=${verb}`);
      assert(await tick.getAttribute("data-change-class") === "spec",
        `tick ${rec.id} is not data-change-class=spec`);
    }
  });

  // A tick hidden under another (a controller's write a few ms later) can
  // not be clicked; the page merges such ticks or draws them apart.
  await report.check("each of the three ticks is on top at its centre (clickable)", async () => {
    for (const rec of [create, scale, image]) {
      const onTop = await lane.locator(tickSel(rec.id)).evaluate((el) => {
        const r = el.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        if (top === el || el.contains(top)) return null;
        return top ? (top.dataset.record ? `tick ${top.dataset.record}` : top.outerHTML.slice(0, 80)) : "nothing";
      });
      assert(onTop === null, `tick ${rec.id} (${rec.message.slice(0, 60)}) is under ${onTop}`);
    }
  });

  await report.check("the scale's drawer diff names /spec/replicas, 2 → 3", async () => {
    await lane.locator(tickSel(scale.id)).click();
    await page.waitForURL((u) => u.searchParams.get("rev") === scale.id);
    await ready(page, `${drawerSel(scale.id)} ${tid("diff")}`);
    const diff = await page.locator(tid("diff")).innerText();
    assert(diff.includes("/spec/replicas"), "the diff does not name /spec/replicas");
    assert(/"replicas":\s*2\b/.test(diff) && /"replicas":\s*3\b/.test(diff),
      'the diff does not show "replicas": 2 and "replicas": 3');
    const op = page.locator(`${tid("diff-op")}[data-path="/spec/replicas"]`);
    assert(await op.count() === 1, "no diff-op row with data-path=/spec/replicas");
    assert(/\b3\b/.test(await op.innerText()), "the /spec/replicas operation does not set 3");
    const message = await page.locator(tid("record-message")).innerText();
    assert(message.includes("/spec/replicas 2→3"), `record-message is "${message}"`);
    await shot(page, "02-drawer-scale");
  });

  return report.check("the image change's drawer diff names the image, old → new", async () => {
    // The drawer covers the lanes: close it first, as a person would.
    if (await page.locator(tid("drawer")).isVisible()) {
      await page.locator(tid("drawer-close")).click();
      await page.locator(tid("drawer")).waitFor({ state: "hidden" });
    }
    // Focus and Enter (the keyboard way the page supports) reach the tick
    // even where a later tick is drawn over it; the check above covers that.
    await lane.locator(tickSel(image.id)).press("Enter");
    await page.waitForURL((u) => u.searchParams.get("rev") === image.id);
    await ready(page, `${drawerSel(image.id)} ${tid("diff")}`);
    const diff = await page.locator(tid("diff")).innerText();
    const path = "/spec/template/spec/containers/0/image";
    assert(diff.includes(path), `the diff does not name ${path}`);
    assert(diff.includes(facts.oldImage) && diff.includes(facts.newImage),
      `the diff does not show ${facts.oldImage} and ${facts.newImage}`);
    const op = page.locator(`${tid("diff-op")}[data-path="${path}"]`);
    assert(await op.count() === 1, `no diff-op row with data-path=${path}`);
    assert((await op.innerText()).includes(facts.newImage), `the image operation does not set ${facts.newImage}`);
    await shot(page, "02-drawer-image");
  });
}
