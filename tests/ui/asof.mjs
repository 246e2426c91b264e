// Check 4: "as of T" shows the object as it was at T. Between the create (2
// replicas) and the scale the Deployment has 2; between the scale and the
// image change 3 with the old image. The moments come from the server's
// records.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { asofRowSel, between, localInput, setNamespace, tid } from "./hooks.mjs";

async function asOf(ctx, at, name) {
  const { browser, facts, errors, shot } = ctx;
  const object = `${facts.namespace}/deployments/${facts.deployment}`;
  const page = await freshPage(browser, errors, `asof ${name}`);
  try {
    await page.goto(facts.base);
    await ready(page);
    await setNamespace(page, facts.namespace);
    await ready(page);
    await page.locator(tid("asof-input")).fill(localInput(at));
    await page.locator(tid("asof-apply")).click();
    await page.waitForURL((u) => u.searchParams.has("asof"));
    await ready(page, asofRowSel(object));
    await page.locator(asofRowSel(object)).click();
    await page.waitForURL((u) => u.searchParams.get("asofobj") === object);
    await ready(page, tid("asof-object"));
    const text = await page.locator(tid("asof-object")).innerText();
    await shot(page, `04-asof-${name}`);
    return text;
  } finally {
    await page.context().close();
  }
}

// The snapshot is pretty-printed JSON; a text that is not still has to say
// "replicas": N under spec, which the regex below reads.
function specOf(text) {
  try {
    return JSON.parse(text).spec;
  } catch {
    const replicas = /"replicas":\s*(\d+)/.exec(text);
    const image = /"image":\s*"([^"]+)"/.exec(text);
    return { replicas: replicas && Number(replicas[1]),
      template: { spec: { containers: [{ image: image && image[1] }] } } };
  }
}

export async function asOfMode(ctx) {
  const { facts, report } = ctx;
  const { create, scale, image } = facts.records;
  const early = between(create, scale);
  await report.check(`as of ${localInput(early)}Z (between create and scale) the Deployment has 2 replicas`, async () => {
    const spec = specOf(await asOf(ctx, early, "before-scale"));
    assert(spec && spec.replicas === 2, `spec.replicas is ${spec && spec.replicas}`);
    assert(spec.template.spec.containers[0].image === facts.oldImage,
      `the image is ${spec.template.spec.containers[0].image}`);
  });
  const late = between(scale, image);
  await report.check(`as of ${localInput(late)}Z (between scale and image change) it has 3 and the old image`, async () => {
    const spec = specOf(await asOf(ctx, late, "before-image"));
    assert(spec && spec.replicas === 3, `spec.replicas is ${spec && spec.replicas}`);
    assert(spec.template.spec.containers[0].image === facts.oldImage,
      `the image is ${spec.template.spec.containers[0].image}`);
  });
}
