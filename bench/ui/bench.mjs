// The timeline page with many objects in its window, in headless chromium:
// time to first render (navigation start to the first body[data-ready=true]
// with lanes, read in the page) and the frame times while the lanes scroll
// (requestAnimationFrame deltas while scrollTop moves every frame, and the
// main thread's time a frame from Chrome's counters).
// Prints the numbers and one JSON line. Usage:
//   KWS_UI_DEPS=<tests/ui/install.sh's dir> node bench.mjs <page URL> <objects> [loads]
import { freshPage, launch } from "../../tests/ui/browser.mjs";

const [url, objectsArg, loadsArg] = process.argv.slice(2);
const objects = Number(objectsArg);
const loads = Number(loadsArg || 3);
const FRAMES = 600; // about 10 s at 60 Hz
const STEP = 120; // px a frame: about 4.6 rows of 26 px, a fast fling

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
const round = (x) => Math.round(x * 10) / 10;

// Installed before the page's own scripts: notes performance.now() (ms
// since navigation start) when body[data-ready] first turns "true" with
// lanes rendered.
function watchReady() {
  const seen = () => document.body && document.body.dataset.ready === "true"
    && document.querySelector('[data-testid="lane"]');
  new MutationObserver((_, obs) => {
    if (window.__kwsReadyAt === undefined && seen()) {
      window.__kwsReadyAt = performance.now();
      obs.disconnect();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-ready"] });
}

// Scrolls the lanes' scroll container by STEP every frame for FRAMES frames
// and returns the deltas between frames.
function scrollLanes({ frames, step }) {
  let el = document.querySelector('[data-testid="lane"]');
  while (el && !(el.scrollHeight > el.clientHeight + 1 && /auto|scroll/.test(getComputedStyle(el).overflowY))) {
    el = el.parentElement;
  }
  if (!el) throw new Error("no scrollable container around the lanes");
  const deltas = [];
  let last = null;
  let n = 0;
  return new Promise((resolve) => {
    const frame = (t) => {
      if (last !== null) deltas.push(t - last);
      last = t;
      el.scrollTop += step;
      if (++n < frames) requestAnimationFrame(frame);
      else {
        resolve({
          deltas,
          scrolledTo: el.scrollTop,
          scrollHeight: el.scrollHeight,
          lanesInDom: document.querySelectorAll('[data-testid="lane"]').length,
          heapMB: performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null,
        });
      }
    };
    requestAnimationFrame(frame);
  });
}

// Runs fn and returns its value with perFrame(counter): the main thread's
// time a frame from Chrome's own counters (CDP Performance domain), less at
// the mercy of other processes' load than the frame deltas.
async function counted(page, fn) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const metrics = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics
    .map((m) => [m.name, m.value]));
  const m0 = await metrics();
  const value = await fn();
  const m1 = await metrics();
  return { value, perFrame: (name) => round((m1[name] - m0[name]) * 1000 / FRAMES) };
}

// The floor of this machine and browser: the same scroll over a plain list
// of the same height, so that the page's numbers can be read against it.
async function floor(browser) {
  const page = await freshPage(browser, [], "floor");
  const rows = Array.from({ length: 40 }, (_, i) => `<div data-testid="lane" style="height:26px">row ${i}</div>`);
  await page.setContent(`<div style="height:800px;overflow:auto"><div style="height:${objects * 26}px">`
    + `${rows.join("")}</div></div>`);
  const { value: s, perFrame } = await counted(page, () => page.evaluate(scrollLanes, { frames: FRAMES, step: STEP }));
  await page.context().close();
  const d = [...s.deltas].sort((a, b) => a - b);
  return { p50Ms: round(pct(d, 50)), p95Ms: round(pct(d, 95)), taskPerFrameMs: perFrame("TaskDuration") };
}

const errors = [];
const browser = await launch();
const result = { url, objects, loads: [], firstRenderMs: null, laneCount: null, scroll: null, floor: null };
try {
  let page = null;
  for (let i = 0; i < loads; i++) {
    if (page) await page.context().close();
    page = await freshPage(browser, errors, `load ${i + 1}`);
    await page.addInitScript(watchReady);
    let apiRequests = 0;
    page.on("request", (r) => { if (r.url().includes("/api/")) apiRequests++; });
    await page.goto(url);
    await page.waitForFunction(() => window.__kwsReadyAt !== undefined, null, { timeout: 300000, polling: 100 });
    const readyAt = await page.evaluate(() => window.__kwsReadyAt);
    const fcp = await page.evaluate(() => {
      const e = performance.getEntriesByName("first-contentful-paint")[0];
      return e ? e.startTime : null;
    });
    result.loads.push({ readyMs: round(readyAt), firstContentfulPaintMs: fcp && round(fcp), apiRequests });
    console.log(`load ${i + 1}: first render with lanes ${round(readyAt)} ms `
      + `(first contentful paint ${fcp && round(fcp)} ms, ${apiRequests} API requests)`);
  }
  const sorted = result.loads.map((l) => l.readyMs).sort((a, b) => a - b);
  result.firstRenderMs = sorted[Math.floor(sorted.length / 2)];
  result.laneCount = await page.locator('[data-testid="lane-count"]').innerText().catch(() => null);

  const { value: s, perFrame } = await counted(page, () => page.evaluate(scrollLanes, { frames: FRAMES, step: STEP }));
  const d = [...s.deltas].sort((a, b) => a - b);
  result.scroll = {
    frames: d.length, stepPx: STEP,
    meanMs: round(d.reduce((a, b) => a + b, 0) / d.length),
    p50Ms: round(pct(d, 50)), p95Ms: round(pct(d, 95)), p99Ms: round(pct(d, 99)), maxMs: round(d[d.length - 1]),
    over33Ms: d.filter((x) => x > 33.4).length,
    scrolledToPx: s.scrolledTo, scrollHeightPx: s.scrollHeight, lanesInDom: s.lanesInDom,
    heapMB: s.heapMB && round(s.heapMB),
    mainThreadPerFrameMs: {
      task: perFrame("TaskDuration"), script: perFrame("ScriptDuration"),
      layout: perFrame("LayoutDuration"), style: perFrame("RecalcStyleDuration"),
    },
  };
  await page.context().close();
  result.floor = await floor(browser);
} finally {
  await browser.close();
}

console.log(`objects in the window: ${objects}; the page says: ${result.laneCount}`);
console.log(`time to first render (median of ${loads}): ${result.firstRenderMs} ms`);
const sc = result.scroll;
console.log(`frame time while scrolling ${sc.frames} frames at ${sc.stepPx} px/frame: mean ${sc.meanMs} ms, `
  + `p50 ${sc.p50Ms}, p95 ${sc.p95Ms}, p99 ${sc.p99Ms}, max ${sc.maxMs}; ${sc.over33Ms} frames over 33 ms; `
  + `${sc.lanesInDom} lanes in the DOM, JS heap ${sc.heapMB} MB`);
const mt = sc.mainThreadPerFrameMs;
console.log(`main thread a frame while scrolling: tasks ${mt.task} ms (script ${mt.script}, layout ${mt.layout}, `
  + `style ${mt.style})`);
console.log(`floor (a plain list of the same height scrolled the same way): frames p50 ${result.floor.p50Ms} ms, `
  + `p95 ${result.floor.p95Ms}; tasks ${result.floor.taskPerFrameMs} ms a frame`);
if (errors.length) console.log(`console errors: ${errors.slice(0, 5).join(" | ")}`);
console.log(JSON.stringify(result));
