// Check 8: token mode (auth.mode: token), against the second server run.sh
// started with AUTH_MODE=token. The page asks for a bearer token when a data
// call answers 401, refuses an invalid one with the server's error, shows
// with a ServiceAccount's token only what that account may get (the
// ConfigMap of its namespace, never the other namespace's), says what was
// left out, shows a 403 as a sentence, keeps the token for the tab only
// (sessionStorage: a reload keeps it, a fresh context does not) and forgets
// it on request.
import { freshPage, ready } from "./browser.mjs";
import { assert } from "./report.mjs";
import { laneSel, setNamespace, tid } from "./hooks.mjs";

export const shown = (id) => `${tid(id)}:not([hidden])`;

// Chromium logs each refused request as a console error; here 401 and 403
// are the answers under test, anything else still counts.
export const expectedLoadError = /Failed to load resource: the server responded with a status of 40[13]\b/;

// The page's sentence for a 403 (ui/src/failure-text.ts): the server's
// "<account> may not get ..." addressed to the account.
export function readableRefusal(error, account) {
  assert(error.startsWith(`${account} may `), `the server's refusal "${error}" does not start with "${account} may "`);
  return `Your account (${account}) ${error.slice(account.length + 1)}.`;
}

// Where the page could have kept the token: both storages and the URL.
async function tokenPlaces(page, token) {
  return page.evaluate((t) => ({
    session: Object.keys(sessionStorage).some((k) => sessionStorage.getItem(k) === t),
    local: Object.keys(localStorage).some((k) => (localStorage.getItem(k) ?? "").includes(t)),
    url: location.href.includes(t) || location.href.includes(encodeURIComponent(t)),
  }), token);
}

// The data calls of a page (/api/v1/...) with their status and
// Authorization header; `await calls.settled()` before reading them.
function recordApiCalls(page) {
  const calls = [];
  const pending = [];
  page.on("response", (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith("/api/v1/")) return;
    // headers() leaves out security-related ones; allHeaders() has them.
    pending.push(res.request().allHeaders().then((h) => {
      calls.push({ path: url.pathname, status: res.status(), auth: h.authorization ?? null });
    }));
  });
  calls.settled = () => Promise.all(pending.splice(0));
  return calls;
}

export async function tokenMode(ctx) {
  const { browser, report, shot } = ctx;
  const t = ctx.facts.token;
  const errors = [];
  const ownLane = laneSel(`${t.namespace}/configmaps/${t.configMap}`);
  const otherObjects = `[data-object^="${t.otherNamespace}/"]`;
  const page = await freshPage(browser, errors, "token");
  const calls = recordApiCalls(page);

  const asked = await report.check("token mode: a 401 shows the token form (password input labelled \"Bearer token\")", async () => {
    await page.goto(t.base);
    await ready(page, shown("token-form"));
    await calls.settled();
    assert(calls.some((c) => c.status === 401 && c.auth === null), "no data call was answered 401");
    const input = page.getByLabel("Bearer token", { exact: true });
    assert(await input.count() === 1, "no input labelled \"Bearer token\"");
    assert(await input.getAttribute("type") === "password", "the token input is not type=password");
    assert(await input.getAttribute("data-testid") === "token-input", "the labelled input is not token-input");
    assert(await page.locator(tid("token-submit")).isVisible(), "no visible token-submit button");
    const text = await page.locator(tid("token-form")).innerText();
    assert(text.includes("kubectl create token"), `the form does not explain where a token comes from: "${text}"`);
    assert(!(await page.locator(tid("token-error")).isVisible()), "an error is shown before a token was sent");
    assert(!(await page.locator(tid("error-banner")).isVisible()), "the 401 is also in error-banner");
    assert(await page.locator(tid("lane")).count() === 0, "lanes are shown without a token");
    await shot(page, "08-token-form");
  });
  if (!asked) {
    await page.context().close();
    return;
  }

  await report.check("token mode: an invalid token keeps the form, with the server's error, and is not kept", async () => {
    await page.locator(tid("token-input")).fill("not-a-valid-token");
    await page.locator(tid("token-submit")).click();
    await ready(page, shown("token-error"));
    assert(await page.locator(tid("token-form")).isVisible(), "the form is gone");
    const error = await page.locator(tid("token-error")).innerText();
    assert(error.includes(t.invalidError), `token-error is "${error}", not the server's "${t.invalidError}"`);
    await calls.settled();
    assert(calls.some((c) => c.status === 401 && c.auth === "Bearer not-a-valid-token"),
      "no data call carried the invalid token");
    const kept = await tokenPlaces(page, "not-a-valid-token");
    assert(!kept.session && !kept.local && !kept.url, `the refused token is still kept: ${JSON.stringify(kept)}`);
    assert(await page.locator(tid("lane")).count() === 0, "lanes are shown with an invalid token");
    await shot(page, "08-token-invalid");
  });

  const signedIn = await report.check(`token mode: the reader's token shows ${t.namespace}/configmaps/${t.configMap}, nothing of ${t.otherNamespace}`, async () => {
    await calls.settled();
    const before = calls.length;
    await page.locator(tid("token-input")).fill(t.token);
    await page.locator(tid("token-submit")).click();
    await ready(page, ownLane);
    assert(!(await page.locator(tid("token-form")).isVisible()), "the form is still shown");
    const leaked = await page.locator(otherObjects).evaluateAll((els) => els.map((el) => el.dataset.object));
    assert(leaked.length === 0, `shown of ${t.otherNamespace}: ${leaked.join(", ")}`);
    const text = await page.locator("body").innerText();
    assert(!text.includes(t.otherConfigMap), `the page shows ${t.otherConfigMap}`);
    await calls.settled();
    const after = calls.slice(before);
    assert(after.length > 0, "no data call after the token was entered");
    const bare = after.filter((c) => c.auth !== `Bearer ${t.token}`);
    assert(bare.length === 0, `data calls without the token: ${bare.map((c) => `${c.path} ${c.status}`).join(", ")}`);
    const kept = await tokenPlaces(page, t.token);
    assert(kept.session, "the token is not in sessionStorage");
    assert(!kept.local, "the token is in localStorage");
    assert(!kept.url, "the token is in the URL");
    await shot(page, "08-token-lanes");
  });

  if (signedIn) {
    await report.check(`token mode: filtered-note on the all-namespace view names ${t.otherNamespace} as hidden`, async () => {
      const note = page.locator(tid("filtered-note"));
      assert(await note.isVisible(), "no visible filtered-note");
      const text = await note.innerText();
      assert(text.startsWith("some resources hidden"), `filtered-note reads "${text}"`);
      const namespaces = (await note.getAttribute("data-namespaces")).split(",");
      // The server lists at most 50 names, then "+N more".
      assert(namespaces.includes(t.otherNamespace) || namespaces.some((n) => /^\+\d+ more$/.test(n)),
        `data-namespaces is "${namespaces.join(",")}"`);
      assert(!namespaces.includes(t.namespace), `data-namespaces names the reader's own ${t.namespace}`);
      const resources = (await note.getAttribute("data-resources")).split(",");
      assert(resources.includes("secrets"), `data-resources "${resources.join(",")}" does not name secrets`);
    });

    await report.check(`token mode: ${t.otherNamespace} shows the server's 403 as a sentence in error-banner`, async () => {
      await setNamespace(page, t.otherNamespace);
      await ready(page, shown("error-banner"));
      const banner = await page.locator(tid("error-banner")).innerText();
      const expected = readableRefusal(t.forbiddenError, t.account);
      assert(banner === expected, `error-banner is "${banner}", not "${expected}"`);
      assert(!(await page.locator(tid("token-form")).isVisible()), "a 403 asks for a token again");
      assert(await page.locator(tid("lane")).count() === 0, "lanes are shown for a namespace the reader may not read");
      await shot(page, "08-token-forbidden");
    });

    await report.check("token mode: a reload of the tab keeps the token (sessionStorage)", async () => {
      await page.goto(t.base);
      await ready(page, ownLane);
      await page.reload();
      await ready(page, ownLane);
      assert(!(await page.locator(tid("token-form")).isVisible()), "the form asks again after a reload");
      assert(await page.locator(tid("token-forget")).isVisible(), "no visible token-forget while a token is kept");
    });

    await report.check("token mode: a fresh browser context has no token and asks for one", async () => {
      const other = await freshPage(browser, errors, "token-fresh");
      try {
        await other.goto(t.base);
        await ready(other, shown("token-form"));
        assert(await other.locator(tid("lane")).count() === 0, "lanes are shown in a fresh context");
        assert(!(await tokenPlaces(other, t.token)).session, "the fresh context has the token");
      } finally {
        await other.context().close();
      }
    });

    await report.check("token mode: token-forget forgets the token and asks again", async () => {
      await page.locator(tid("token-forget")).click();
      await ready(page, shown("token-form"));
      assert(!(await tokenPlaces(page, t.token)).session, "the token is still in sessionStorage");
      assert(await page.locator(tid("lane")).count() === 0, "lanes are still shown");
      assert(!(await page.locator(tid("token-forget")).isVisible()), "token-forget is still shown");
      assert(!(await page.locator(tid("token-error")).isVisible()), "forgetting shows an error");
    });
  }
  await page.context().close();

  await report.check("token mode: no console error or uncaught exception besides the refused requests", async () => {
    const unexpected = errors.filter((e) => !expectedLoadError.test(e));
    assert(unexpected.length === 0, unexpected.slice(0, 5).join(" | "));
  });
}
