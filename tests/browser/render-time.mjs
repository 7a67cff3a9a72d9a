// Measures how long headless Chromium takes to load and draw a saved traffic
// view page (used by scripts/perf-report): median of 5 loads of the file, from
// navigation start to the load event, plus a forced layout and paint.
//
//   node tests/browser/render-time.mjs PAGE.html
// prints `render_ms=N` and `dom_elements=N`.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const file = resolve(process.argv[2]);
const profile = mkdtempSync(join(tmpdir(), "sockstatlog-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1200, height: 1000 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  const runs = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(`file://${file}`, { waitUntil: "load" });
    runs.push(await page.evaluate(() => new Promise((done) => {
      document.body.getBoundingClientRect();
      requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));
    })));
  }
  runs.sort((a, b) => a - b);
  console.log(`render_ms=${Math.round(runs[2])}`);
  console.log(`dom_elements=${await page.evaluate(() => document.getElementsByTagName("*").length)}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
