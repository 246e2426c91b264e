// The page checks, in order, over the history run.sh made (facts.json):
//   1 loads without console errors        (timeline.mjs)
//   2 lane, ticks and drawer diffs         (timeline.mjs)
//   3 a copied link reproduces the view    (link.mjs)
//   4 as-of shows the older state          (asof.mjs)
//   5 the outage is a shaded coverage gap  (gap.mjs)
//   6 changes between a chosen T1 and T2   (changes.mjs)
//   7 a screenshot of each state           (every check; listed at the end)
//   8 token mode: form, filtering, storage (token.mjs, the AUTH_MODE=token server)
//   9 token mode in the panels: a 403 as a sentence, a 401 asks (token-panels.mjs)
//  10 at a hub: the cluster picker, cluster= on every call (hub.mjs)
// No console error or uncaught exception on any page, over the whole run.
// Usage: KWS_UI_DEPS=<install.sh's dir> node checks.mjs facts.json
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { freshPage, launch, screenshotter } from "./browser.mjs";
import { assert, reporter } from "./report.mjs";
import { deploymentLane, pageLoads } from "./timeline.mjs";
import { sharedLink } from "./link.mjs";
import { asOfMode } from "./asof.mjs";
import { coverageGap } from "./gap.mjs";
import { changesBetween } from "./changes.mjs";
import { tokenMode } from "./token.mjs";
import { tokenPanels } from "./token-panels.mjs";
import { hubView } from "./hub.mjs";

const facts = JSON.parse(readFileSync(process.argv[2], "utf8"));
const report = reporter();
const errors = [];
const browser = await launch();
const ctx = { browser, facts, errors, report, shot: screenshotter(facts.screenshots) };
report.note(`page ${facts.base}, namespace ${facts.namespace}, screenshots in ${facts.screenshots}`);

try {
  const page = await freshPage(browser, errors, "timeline");
  await pageLoads(ctx, page);
  if (await deploymentLane(ctx, page)) await sharedLink(ctx, page);
  else report.fail("a link copied from the address bar reproduces the view", "no drawer to link to");
  await page.context().close();
  await asOfMode(ctx);
  await coverageGap(ctx);
  await changesBetween(ctx);
  if (facts.token) {
    await tokenMode(ctx);
    await tokenPanels(ctx);
  } else {
    report.fail("token mode", "no AUTH_MODE=token server was set up (see run.sh's FAIL lines)");
  }
  if (facts.hub) await hubView(ctx);
  else report.fail("the page at a hub", "no hub was set up (see run.sh's FAIL lines)");
} finally {
  await browser.close();
}

await report.check("no console error or uncaught exception on any page", async () => {
  assert(errors.length === 0, errors.slice(0, 5).join(" | "));
});
await report.check("a screenshot of each checked state is written", async () => {
  for (const name of ["01-loaded", "02-lane", "02-drawer-scale", "02-drawer-image", "03-link",
    "04-asof-before-scale", "04-asof-before-image", "05-coverage-gap", "06-changes",
    ...(facts.token ? ["08-token-form", "08-token-invalid", "08-token-lanes", "08-token-forbidden",
      "09-panels-forbidden", "09-panels-secret", "09-panels-token-drawer", "09-panels-token"] : []),
    ...(facts.hub ? ["10-hub-alpha", "10-hub-gap", "10-hub-beta"] : [])]) {
    const file = path.join(facts.screenshots, `${name}.png`);
    assert(ctx.shot.written.includes(name) && statSync(file).size > 0, `${file} was not written`);
  }
});
process.exitCode = report.summary() ? 0 : 1;
