// Check 9: the panels in token mode, against the AUTH_MODE=token server. A
// link to what the reader's account may not read (the second namespace; a
// Secret of its own namespace) shows in the drawer, "as of" and "what
// changed" the server's refusal as one sentence addressed to the account,
// never the answer's raw text. A 401 to a panel's own call (the token
// stopped working while the timeline stayed loaded) offers the token form
// and the panel says a token is needed; the token entered again loads it.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { asofRowSel, drawerSel, laneSel, localInput, tid } from "./hooks.mjs";
import { expectedLoadError, readableRefusal, shown } from "./token.mjs";

// The sentence a panel shows instead of what it could not load.
const failed = (panel, status) => `${tid(panel)} ${tid("load-error")}[data-status="${status}"]`;

// What a raw error looks like: the answer's JSON, the request
// (`/api/v1/...: 403: ...`), a bare status.
const RAW = /\{"error"|\/api\/v1\/|: 40[13]\b|HTTP 40[13]/;

async function asReader(t, path) {
  return fetch(`${t.api}${path}`, { headers: { Authorization: `Bearer ${t.token}` } });
}

// What the server tells the reader who asks for PATH: a 403's error.
async function refusalOf(t, path) {
  const res = await asReader(t, path);
  assert(res.status === 403, `${path} answered ${res.status} to the reader, not 403`);
  return (await res.json()).error;
}

function window1h() {
  const end = new Date();
  return { start: new Date(end.getTime() - 3600_000).toISOString(), end: end.toISOString() };
}

const objectPath = (ns, type, name) => `/api/v1/events/${ns}/${type}/${name}`;

// The panel's sentence for a failed load with STATUS, once shown; else
// what the panel says instead.
async function failureShown(page, panel, status) {
  try {
    await ready(page, failed(panel, status));
  } catch {
    const text = await page.locator(tid(panel)).first().innerText({ timeout: 1000 }).catch(() => "(no such panel)");
    throw new Error(`${panel} shows no sentence for the ${status} (load-error); it reads "${text.slice(0, 300)}"`);
  }
  return page.locator(failed(panel, status)).innerText();
}

// The panel's refusal reads `expected`, and nothing of the answer shows raw.
async function assertRefusal(page, panel, expected) {
  const text = await failureShown(page, panel, 403);
  assert(text === expected, `${panel} reads "${text}", not "${expected}"`);
  await assertNothingRaw(page, tid(panel));
}

async function assertNothingRaw(page, where = "body") {
  const text = await page.locator(where).innerText();
  const raw = RAW.exec(text);
  assert(!raw, `${where} shows "${raw?.[0]}": "${text.slice(0, 300)}"`);
}

// Where the page keeps the token, replaced by one the server refuses: as
// if it expired while the page stayed open.
async function spoilToken(page, token) {
  const replaced = await page.evaluate((tok) => {
    const key = Object.keys(sessionStorage).find((k) => sessionStorage.getItem(k) === tok);
    if (key) sessionStorage.setItem(key, "expired-token");
    return key !== undefined;
  }, token);
  assert(replaced, "the token is not in sessionStorage");
}

export async function tokenPanels(ctx) {
  const { browser, report, shot } = ctx;
  const t = ctx.facts.token;
  const errors = [];
  const own = `${t.namespace}/configmaps/${t.configMap}`;
  const ownLane = laneSel(own);
  const page = await freshPage(browser, errors, "token-panels");

  const signedIn = await report.check("token mode, panels: the reader's token is taken", async () => {
    await page.goto(`${t.base}?namespace=${t.namespace}`);
    await ready(page, shown("token-form"));
    await page.locator(tid("token-input")).fill(t.token);
    await page.locator(tid("token-submit")).click();
    await ready(page, ownLane);
  });
  if (!signedIn) {
    await page.context().close();
    return;
  }

  await report.check(`token mode, panels: a link into ${t.otherNamespace} shows the server's 403 as a sentence in the drawer, as of and what changed`, async () => {
    const b = t.otherNamespace;
    const w = window1h();
    const expected = {
      drawer: readableRefusal(await refusalOf(t, objectPath(b, "configmaps", t.otherConfigMap)), t.account),
      "asof-view": readableRefusal(await refusalOf(t, `/api/v1/snapshot?at=${w.end}&namespace=${b}`), t.account),
      "changes-view": readableRefusal(
        await refusalOf(t, `/api/v1/changes?start=${w.start}&end=${w.end}&namespace=${b}`), t.account),
    };
    const object = `${b}/configmaps/${t.otherConfigMap}`;
    await page.goto(`${t.base}?${new URLSearchParams({ namespace: b, object, rev: t.otherRecord })}`);
    for (const [panel, sentence] of Object.entries(expected)) await assertRefusal(page, panel, sentence);
    await assertNothingRaw(page);
    assert(!(await page.locator(tid("token-form")).isVisible()), "a 403 asks for a token again");
    assert(!(await page.locator(`[data-object^="${b}/"]`).count()), `something of ${b} is shown`);
    await shot(page, "09-panels-forbidden");
  });

  await report.check(`token mode, panels: a link to the Secret ${t.namespace}/${t.secret} shows the server's 403 as a sentence in the drawer and what changed`, async () => {
    const a = t.namespace;
    const w = window1h();
    const drawer = readableRefusal(await refusalOf(t, objectPath(a, "secrets", t.secret)), t.account);
    const changes = readableRefusal(
      await refusalOf(t, `/api/v1/changes?start=${w.start}&end=${w.end}&namespace=${a}&resourceType=secrets`),
      t.account);
    const object = `${a}/secrets/${t.secret}`;
    await page.goto(`${t.base}?${new URLSearchParams({ namespace: a, kinds: "secrets", object, rev: t.secretRecord })}`);
    await assertRefusal(page, "drawer", drawer);
    await assertRefusal(page, "changes-view", changes);
    await assertNothingRaw(page);
    // As of lists the namespace's objects the reader may get, no Secret.
    await ready(page, `${tid("asof-view")} ${tid("asof-table")}`);
    assert(!(await page.locator(`${tid("asof-view")} ${tid("load-error")}`).count()), "as of shows an error");
    assert(!(await page.locator(`[data-object^="${a}/secrets/"]`).count()), "a Secret is shown");
    assert(!(await page.locator("body").innerText()).includes(t.secret), `${t.secret} is shown`);
    await shot(page, "09-panels-secret");
  });

  let tick = null;
  const asked = await report.check("token mode, panels: a 401 to the drawer, as of and what changed offers the token form, each panel says a token is needed", async () => {
    await page.goto(`${t.base}?namespace=${t.namespace}`);
    await ready(page, ownLane);
    await spoilToken(page, t.token);
    // The timeline stays as loaded; only the panels ask the server again.
    tick = await page.locator(`${ownLane} ${tid("tick")}`).first().getAttribute("data-record");
    await page.locator(`${ownLane} ${tid("tick")}[data-record="${tick}"]`).click();
    const drawer = await failureShown(page, "drawer", 401);
    assert(await page.locator(tid("token-form")).isVisible(), "the drawer's 401 does not show token-form");
    const refused = await page.locator(tid("token-error")).innerText();
    assert(refused.startsWith("The server refused the token"), `token-error reads "${refused}"`);
    assert(/^The server refused the bearer token: enter another one in the token form\b/.test(drawer),
      `the drawer reads "${drawer}"`);
    await assertNothingRaw(page, tid("drawer"));
    await shot(page, "09-panels-token-drawer");
    // The drawer covers the panels, as it does for a person.
    await page.locator(tid("drawer-close")).click();

    // A moment after the ConfigMap's record and unlike the one shown, so
    // that as of loads again; T1 and T2 around it.
    const recorded = Date.parse((await (await asReader(t, `/api/v1/records/${tick}`)).json()).timestamp);
    let at = Math.ceil(recorded / 1000) * 1000 + 1000;
    if (localInput(at) === await page.locator(tid("asof-input")).inputValue()) at += 1000;
    await page.locator(tid("asof-input")).fill(localInput(at));
    await page.locator(tid("asof-apply")).click();
    const asof = await failureShown(page, "asof-view", 401);
    await page.locator(tid("changes-t1")).fill(localInput(at - 1800_000));
    await page.locator(tid("changes-t2")).fill(localInput(at));
    await page.locator(tid("changes-apply")).click();
    const changes = await failureShown(page, "changes-view", 401);
    assert(!(await page.locator(tid("drawer")).isVisible()), "the drawer is still open");
    for (const [panel, text] of [["asof-view", asof], ["changes-view", changes]]) {
      assert(/^A bearer token is needed to show this: enter one in the token form\b/.test(text),
        `${panel} reads "${text}"`);
    }
    await assertNothingRaw(page);
    assert(await page.locator(tid("token-form")).isVisible(), "token-form is hidden again");
    assert(!(await page.locator(tid("error-banner")).isVisible()), "the 401 is also in error-banner");
    assert(await page.locator(ownLane).count() === 1, "the timeline was dropped");
    await shot(page, "09-panels-token");
  });

  if (asked) {
    await report.check("token mode, panels: the token entered again loads the drawer, as of and what changed", async () => {
      await page.locator(tid("token-input")).fill(t.token);
      await page.locator(tid("token-submit")).click();
      await ready(page, `${tid("asof-view")} ${asofRowSel(own)}`);
      await ready(page, `${tid("changes-view")} ${tid("changes-row")}[data-object="${own}"]`);
      assert(!(await page.locator(tid("token-form")).isVisible()), "the form is still shown");
      await page.locator(`${ownLane} ${tid("tick")}[data-record="${tick}"]`).click();
      await ready(page, `${drawerSel(tick)} ${tid("record-meta")}`);
      assert(!(await page.locator(tid("load-error")).count()), "a panel still shows an error");
    });
  }
  await page.context().close();

  await report.check("token mode, panels: no console error or uncaught exception besides the refused requests", async () => {
    const unexpected = errors.filter((e) => !expectedLoadError.test(e));
    assert(unexpected.length === 0, unexpected.slice(0, 5).join(" | "));
  });
}
