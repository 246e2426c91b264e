// Headless Debian chromium through playwright-core, shared by the page tests
// and the page bench. playwright-core lives in the per-lock cache of
// install.sh ($KWS_UI_DEPS), not beside these files, so it is loaded from
// there; it downloads no browser of its own.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";

const deps = process.env.KWS_UI_DEPS;
if (!deps) throw new Error("KWS_UI_DEPS (the directory install.sh printed) is not set");
const { chromium } = createRequire(path.join(deps, "package.json"))("playwright-core");

export const CHROMIUM = process.env.KWS_UI_CHROMIUM || "/usr/bin/chromium";

export async function launch() {
  // Chromium's sandbox refuses to start as root (CI containers).
  const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

// A page in a fresh context (no shared storage, as a link opened by
// someone else) whose console errors and uncaught exceptions are collected
// into `errors` as "<where>: <text>".
export async function freshPage(browser, errors, name) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`${name}: console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`${name}: pageerror: ${err.message}`));
  return page;
}

// The page sets body[data-ready] to "true" once a render after a load is
// finished. `selector`, when given, must match at the same time, so a flag
// left over from the previous render does not count.
export async function ready(page, selector = null, timeout = 30000) {
  await page.waitForFunction(
    (sel) => document.body && document.body.dataset.ready === "true"
      && (sel === null || document.querySelector(sel) !== null),
    selector,
    { timeout, polling: 100 },
  );
}

// shot(page, name) writes <dir>/<name>.png; shot.written lists the names
// written in this run.
export function screenshotter(dir) {
  mkdirSync(dir, { recursive: true });
  const shot = async (page, name) => {
    const file = path.join(dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    shot.written.push(name);
    return file;
  };
  shot.written = [];
  return shot;
}
