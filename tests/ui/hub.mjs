// Check 10: the page at a hub (run.sh's hub.sh: both servers export to a
// broker as clusters alpha and beta, a hub serves the page for both). The
// page shows the hub's clusters in cluster-select, names the chosen one on
// every data call, in the URL and in the copied commands; its ruler shades
// the first server's outage as that server's page does; beta's lane of the
// Deployment holds beta's records only; a link opens the same cluster. At a
// server no picker is shown and a link's cluster is dropped.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { laneSel, tid } from "./hooks.mjs";

// The records ids of the ticks of `object`'s lane.
async function tickIds(page, object) {
  return page.locator(`${laneSel(object)} ${tid("tick")}`)
    .evaluateAll((ts) => ts.map((t) => t.dataset.record));
}

async function webRecords(hub, cluster, namespace) {
  const res = await fetch(`${hub.api}/api/v1/events?cluster=${cluster}&namespace=${namespace}`
    + "&resourceType=deployments&resourceName=web");
  assert(res.ok, `the hub answered ${res.status} for ${cluster}'s records of deployment web`);
  return res.json();
}

export async function hubView(ctx) {
  const { browser, facts, errors, shot, report } = ctx;
  const { hub } = facts;
  const { create, scale, image } = facts.records;
  const object = `${facts.namespace}/deployments/${facts.deployment}`;
  const alphaIds = [create.id, scale.id, image.id];

  await report.check("at a server the page shows no cluster picker and drops a link's cluster", async () => {
    const page = await freshPage(browser, errors, "server-clusters");
    try {
      await page.goto(`${facts.base}?cluster=alpha&namespace=${facts.namespace}`);
      await ready(page, laneSel(object));
      assert(!(await page.locator(tid("cluster-select")).isVisible()), "cluster-select is shown at a server");
      assert(!new URL(page.url()).searchParams.has("cluster"), `the URL keeps the cluster: ${page.url()}`);
    } finally {
      await page.context().close();
    }
  });

  // From before the create to after the image change and beta's last
  // record of the Deployment: short enough that ticks 2 s apart are drawn
  // apart.
  const beta = await webRecords(hub, "beta", facts.namespace);
  const betaIds = beta.map((r) => r.id);
  const last = Math.max(Date.parse(image.timestamp), ...beta.map((r) => Date.parse(r.timestamp)));
  const start = new Date(Date.parse(create.timestamp) - 5000).toISOString();
  const end = new Date(last + 5000).toISOString();

  const page = await freshPage(browser, errors, "hub");
  const calls = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/api/") && u.pathname !== "/api/v1/clusters") calls.push(u);
  });
  const unnamed = (cluster) => calls.filter((u) => u.searchParams.get("cluster") !== cluster)
    .map((u) => `${u.pathname}?${u.searchParams}`);
  try {
    await report.check("at a hub cluster-select lists its clusters and the view is about the first", async () => {
      await page.goto(`${hub.base}?namespace=${facts.namespace}&start=${start}&end=${end}`);
      await ready(page, laneSel(object));
      const select = page.locator(tid("cluster-select"));
      assert(await select.isVisible(), "no cluster-select at the hub");
      const options = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
      assert(JSON.stringify(options) === JSON.stringify(hub.clusters),
        `cluster-select lists ${JSON.stringify(options)}, the hub ${JSON.stringify(hub.clusters)}`);
      assert(await select.inputValue() === "alpha", `cluster-select shows ${await select.inputValue()}`);
      assert(new URL(page.url()).searchParams.get("cluster") === "alpha", `the URL is ${page.url()}`);
      await shot(page, "10-hub-alpha");
    });
    await report.check("at alpha the lane has the first server's create, scale and image ticks", async () => {
      const ids = await tickIds(page, object);
      for (const id of alphaIds) assert(ids.includes(id), `no tick ${id} among ${JSON.stringify(ids)}`);
      assert(ids.every((id) => hub.alphaWebIds.includes(id)),
        `ticks ${JSON.stringify(ids)} are not all alpha's records ${JSON.stringify(hub.alphaWebIds)}`);
    });
    await report.check("every data call of the page named cluster=alpha", async () => {
      assert(calls.length > 0, "no data call was seen");
      assert(unnamed("alpha").length === 0, `calls without it: ${unnamed("alpha").slice(0, 3).join(" | ")}`);
    });
    await report.check("at alpha the ruler shades the first server's outage as its own page does", async () => {
      const other = await freshPage(browser, errors, "hub-gap");
      try {
        const stopped = Date.parse(facts.outage.stoppedAt);
        const restarted = Date.parse(facts.outage.restartedAt);
        const around = (t) => new Date(t).toISOString();
        await other.goto(`${hub.base}?cluster=alpha&namespace=${facts.namespace}`
          + `&start=${around(stopped - 60000)}&end=${around(restarted + 60000)}`);
        const gapSel = `${tid("coverage-gap")}[data-reason="server down"]`;
        await ready(other, gapSel);
        const gaps = await other.locator(gapSel).evaluateAll((els) => els.map((e) => ({
          start: Date.parse(e.dataset.start), end: Date.parse(e.dataset.end),
        })));
        assert(facts.outage.gap, "the server reported no outage gap to compare with");
        const { start, end } = facts.outage.gap;
        assert(gaps.some((g) => Math.abs(g.start - Date.parse(start)) < 1000 && Math.abs(g.end - Date.parse(end)) < 1000),
          `no shaded gap is the server's own ${start}…${end}: `
          + JSON.stringify(gaps.map((g) => [new Date(g.start), new Date(g.end)])));
        await shot(other, "10-hub-gap");
      } finally {
        await other.context().close();
      }
    });

    calls.length = 0;
    await report.check("choosing beta shows beta's records of the Deployment, none of alpha's", async () => {
      await page.locator(tid("cluster-select")).selectOption("beta");
      await page.waitForURL((u) => u.searchParams.get("cluster") === "beta");
      await ready(page, laneSel(object));
      const ids = await tickIds(page, object);
      assert(ids.length > 0, "beta's lane has no tick");
      assert(ids.every((id) => betaIds.includes(id)),
        `ticks ${JSON.stringify(ids)} are not all beta's records ${JSON.stringify(betaIds)}`);
      assert(!alphaIds.some((id) => ids.includes(id) && !betaIds.includes(id)),
        `alpha's ticks are still shown: ${JSON.stringify(ids)}`);
      await shot(page, "10-hub-beta");
    });
    await report.check("every data call after the choice named cluster=beta", async () => {
      assert(calls.length > 0, "no data call was seen");
      assert(unnamed("beta").length === 0, `calls without it: ${unnamed("beta").slice(0, 3).join(" | ")}`);
    });
    await report.check("copy as curl and as MCP call name cluster=beta", async () => {
      const output = page.locator(tid("copy-output"));
      await page.locator(tid("copy-curl")).click();
      await output.filter({ hasText: "/api/v1/" }).waitFor();
      const curl = await output.innerText();
      assert(curl.includes("cluster=beta"), `copied: ${curl}`);
      await page.locator(tid("copy-mcp")).click();
      await output.filter({ hasText: "tools/call" }).waitFor();
      const mcp = await output.innerText();
      assert(mcp.includes("/mcp?cluster=beta"), `copied: ${mcp}`);
    });
    await report.check("a link to beta's view opens beta in a fresh page", async () => {
      const url = page.url();
      const before = await tickIds(page, object);
      const other = await freshPage(browser, errors, "hub-link");
      try {
        await other.goto(url);
        await ready(other, laneSel(object));
        assert(await other.locator(tid("cluster-select")).inputValue() === "beta", "the fresh page is not at beta");
        const after = await tickIds(other, object);
        assert(JSON.stringify(after) === JSON.stringify(before),
          `ticks ${JSON.stringify(after)}, before ${JSON.stringify(before)}`);
      } finally {
        await other.context().close();
      }
    });
  } finally {
    await page.context().close();
  }
}
