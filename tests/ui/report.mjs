// One PASS/FAIL line per check and the `N passed, M failed` summary, as the
// shell suites print them (tests/e2e/lib.sh), so run.sh can relay them.
export function reporter() {
  let passed = 0;
  let failed = 0;
  const r = {
    pass(what) { passed++; console.log(`PASS: ${what}`); },
    fail(what, why) { failed++; console.log(`FAIL: ${what}${why ? `: ${why}` : ""}`); },
    note(what) { console.log(`NOTE: ${what}`); },
    // Runs an async check; a thrown error (an assertion or a timeout waiting
    // for the page) fails it with the error's first lines.
    async check(what, fn) {
      try {
        await fn();
        r.pass(what);
        return true;
      } catch (err) {
        // Playwright's call log (what it waited for) follows the first line.
        const lines = String(err && err.message || err).replace(/\x1b\[[0-9;]*m/g, "")
          .split("\n").map((l) => l.trim()).filter(Boolean);
        r.fail(what, [lines[0], ...lines.slice(1).slice(-4)].join(" | "));
        return false;
      }
    },
    summary() {
      console.log(`${passed} passed, ${failed} failed`);
      return failed === 0 && passed > 0;
    },
  };
  return r;
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}
