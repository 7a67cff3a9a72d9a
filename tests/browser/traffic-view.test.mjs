// The log server's traffic view in a real browser (Debian's headless Chromium,
// driven by playwright-core): a known set of events is uploaded to the real
// server, then the page's drawn elements are checked against that data, zooming
// is checked to change the range, and screenshots are saved as test artifacts.
//
//   LOGSERVER_BIN=target/debug/sockstatlog-logserver node traffic-view.test.mjs [ARTIFACT_DIR]

import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { createInterface } from "node:readline";

const SERVER_BIN = process.env.LOGSERVER_BIN;
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const ARTIFACTS = process.argv[2] || "target/browser-tests";
const COLLECTION = "sockstats.browser-test";
const PRIVATE_ID = "00".repeat(32);
const PUBLIC_ID = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";
const T0 = 1_700_000_000_000;

/** One minute of traffic: 100 ms events, the logger off from 20 s to 30 s,
 *  cellular from 10 s to 15 s and from 40 s to 50 s, six labels (one an app's own). */
function session() {
  const events = [];
  for (let i = 0; i < 600; i++) {
    const at = i * 100;
    if (at >= 20_000 && at < 30_000) continue;
    const s = { "8": [1000 + (i % 7) * 10, 3000] };
    if (i % 5 === 0) s["9"] = [1280, 9000];
    if (i % 10 === 0) s["5"] = [64, 180];
    if (i === 450) s["11"] = [2400, 350];
    if (at >= 50_000 && i % 10 === 3) s["200"] = [500, 100];
    if (i % 50 === 7) s["0"] = [300, 12_000];
    const cellular = (at >= 10_000 && at < 15_000) || (at >= 40_000 && at < 50_000);
    events.push({ t: T0 + at, d: 100, ...(cellular ? { c: 1 } : {}), s });
  }
  return events;
}

/** Per-label totals of the events whose middle lies in [from, to). */
function totals(events, from, to) {
  const sums = new Map();
  for (const e of events) {
    const middle = e.t + e.d / 2;
    if (middle < from || middle >= to) continue;
    for (const [label, [tx, rx]] of Object.entries(e.s)) {
      const sum = sums.get(Number(label)) || { tx: 0, rx: 0 };
      sum.tx += tx;
      sum.rx += rx;
      sums.set(Number(label), sum);
    }
  }
  return new Map([...sums].sort((a, b) => a[0] - b[0]));
}

async function startServer() {
  assert.ok(SERVER_BIN, "set LOGSERVER_BIN to the sockstatlog-logserver binary");
  const child = spawn(SERVER_BIN, ["--memory", "--listen", "127.0.0.1:0", "--quiet"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`log server exited with ${code}`)));
  });
  const url = first.replace(/^listening on /, "");
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  return { child, url };
}

async function attrs(page, selector, names) {
  return page.$$eval(
    selector,
    (elements, names) => elements.map((e) => Object.fromEntries(names.map((n) => [n, e.getAttribute(n)]))),
    names,
  );
}

/** Checks the page against the events for the window it shows. */
async function checkPage(page, events, expectedCellular) {
  const svg = page.locator("svg.timeline");
  const from = Number(await svg.getAttribute("data-from"));
  const to = Number(await svg.getAttribute("data-to"));
  const expected = totals(events, from, to);

  const series = await attrs(page, "svg.timeline g.series", ["data-label", "data-tx", "data-rx"]);
  assert.deepEqual(
    series.map((s) => [Number(s["data-label"]), Number(s["data-tx"]), Number(s["data-rx"])]),
    [...expected].map(([label, sum]) => [label, sum.tx, sum.rx]),
    "one lane per label with bytes in the range, with its totals",
  );
  for (const label of expected.keys()) {
    const box = await page.locator(`g.series[data-label="${label}"] path.rx`).boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, `label ${label}: received bytes are drawn`);
  }

  const cellular = await attrs(page, "svg.timeline rect.cellular", ["data-from", "data-to"]);
  assert.deepEqual(
    cellular.map((r) => [Number(r["data-from"]), Number(r["data-to"])]),
    expectedCellular,
    "the shaded cellular ranges",
  );

  const rows = await attrs(page, "table.totals tbody tr[data-label]", ["data-label", "data-tx", "data-rx"]);
  assert.deepEqual(
    rows.map((r) => [Number(r["data-label"]), Number(r["data-tx"]), Number(r["data-rx"])]),
    [...expected].map(([label, sum]) => [label, sum.tx, sum.rx]),
    "the totals table",
  );
  const all = [...expected.values()].reduce((a, s) => ({ tx: a.tx + s.tx, rx: a.rx + s.rx }), { tx: 0, rx: 0 });
  const totalRow = await attrs(page, "table.totals tr.total", ["data-tx", "data-rx"]);
  assert.deepEqual(totalRow, [{ "data-tx": String(all.tx), "data-rx": String(all.rx) }]);
  const shares = await page.$$eval("table.totals tbody tr[data-label] td:nth-child(6)", (cells) =>
    cells.map((c) => parseFloat(c.textContent)),
  );
  assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 0.5, `shares add up to 100 %: ${shares}`);
  return { from, to };
}

const clip = (ranges, from, to) =>
  ranges.filter(([a, b]) => b > from && a < to).map(([a, b]) => [Math.max(a, from), Math.min(b, to)]);

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { child, url } = await startServer();
  const profile = mkdtempSync(join(tmpdir(), "sockstatlog-chromium-"));
  let context;
  try {
    const events = session();
    const body = JSON.stringify([...events, { text: "app backgrounded" }]);
    const upload = await fetch(`${url}/c/${COLLECTION}/${PRIVATE_ID}`, { method: "POST", body });
    assert.equal(upload.status, 200, await upload.text());

    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 1000 },
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    });
    const page = context.pages()[0] || (await context.newPage());
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });

    await page.goto(`${url}/`);
    await page.click(`a[href="/logs/${COLLECTION}/${PUBLIC_ID}"]`);
    await page.waitForSelector("svg.timeline");
    const cellular = [[T0 + 10_000, T0 + 15_000], [T0 + 40_000, T0 + 50_000]];
    const whole = await checkPage(page, events, cellular);
    assert.deepEqual(whole, { from: T0, to: T0 + 60_000 }, "the whole log by default");
    const gaps = await attrs(page, "svg.timeline rect.gap", ["data-from", "data-to"]);
    assert.deepEqual(gaps, [{ "data-from": String(T0 + 20_000), "data-to": String(T0 + 30_000) }], "the logger's pause is a gap");
    await page.screenshot({ path: join(ARTIFACTS, "traffic-view.png"), fullPage: true });

    await Promise.all([page.waitForURL(/from=/), page.click("a.zoom-in")]);
    const zoomed = await checkPage(page, events, clip(cellular, T0 + 15_000, T0 + 45_000));
    assert.deepEqual(zoomed, { from: T0 + 15_000, to: T0 + 45_000 }, "zoom in shows the middle half");
    assert.match(await page.locator("#range").textContent(), /\(30\.0 s\)/);
    await page.screenshot({ path: join(ARTIFACTS, "traffic-view-zoomed.png"), fullPage: true });

    await Promise.all([page.waitForURL(/from=/), page.click("a.whole")]);
    assert.deepEqual(await checkPage(page, events, cellular), whole, "back to the whole log");

    const json = await (await fetch(`${url}/api/logs/${COLLECTION}/${PUBLIC_ID}`)).json();
    assert.equal(json.series.length, totals(events, whole.from, whole.to).size, "the JSON has the same series");
    assert.deepEqual(outside, [], "the page fetches nothing from elsewhere");
    console.log(`browser test: traffic view OK (${events.length} events, 6 label lanes, 2 cellular ranges, zoom); screenshots in ${ARTIFACTS}`);
  } finally {
    if (context) await context.close();
    child.kill();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
