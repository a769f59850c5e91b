// Opens a report.html in headless Chromium (Debian's /usr/bin/chromium) and fails when the page logs a
// console error, throws, fetches anything but itself and data: URIs, or shows a chart that did not load.
//
// Usage: node .ci/report-check/check.mjs [--charts N] [--screenshot PNG] REPORT_HTML
//   --charts N        also fail unless exactly N charts are on the page
//   --screenshot PNG  save a full-page screenshot there
// Variables:
//   CHROMIUM   the browser (default: /usr/bin/chromium; Debian: apt-get install chromium)
// Exit: 0 all shown, 1 a problem (each one printed), 2 bad arguments or no browser.
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function usage(message) {
  console.error(`error: ${message}\nusage: node check.mjs [--charts N] [--screenshot PNG] REPORT_HTML`);
  process.exit(2);
}

const args = process.argv.slice(2);
let charts = null;
let screenshot = null;
let report = null;
while (args.length > 0) {
  const a = args.shift();
  if (a === '--charts') {
    charts = Number.parseInt(args.shift(), 10);
    if (!Number.isInteger(charts) || charts < 1) usage('--charts takes a whole number of charts, at least 1');
  } else if (a === '--screenshot') {
    screenshot = args.shift();
    if (!screenshot) usage('--screenshot takes a file name');
  } else if (report === null && !a.startsWith('--')) {
    report = a;
  } else {
    usage(`unexpected argument ${a}`);
  }
}
if (report === null) usage('give the report.html to open');
if (!existsSync(report)) usage(`${report} does not exist: write it first (report --results DIR)`);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) usage(`no browser at ${executablePath}: apt-get install chromium, or set CHROMIUM`);

const url = pathToFileURL(resolve(report)).href;
const problems = [];
const profile = mkdtempSync(join(tmpdir(), 'report-check-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    offline: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    if (req.url() !== url && !req.url().startsWith('data:')) problems.push(`fetches ${req.url()}: the page must be self-contained`);
  });
  page.on('requestfailed', (req) => problems.push(`failed to load ${req.url().slice(0, 80)}: ${req.failure()?.errorText}`));

  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  const images = await page.evaluate(async () => Promise.all(Array.from(document.images).map(async (img) => {
    let decoded = true;
    try {
      await img.decode();
    } catch {
      decoded = false;
    }
    img.scrollIntoView();
    const box = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    return {
      name: img.dataset.file || img.alt || img.src.slice(0, 40),
      decoded,
      complete: img.complete,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
      shown: box.width > 0 && box.height > 0 && style.display !== 'none' && style.visibility !== 'hidden',
    };
  })));
  if (images.length === 0) problems.push('no chart on the page');
  if (charts !== null && images.length !== charts) problems.push(`${images.length} charts on the page, expected ${charts}`);
  for (const img of images) {
    if (!img.complete || !img.decoded || img.naturalWidth === 0 || img.naturalHeight === 0) {
      problems.push(`chart ${img.name} did not load (naturalWidth ${img.naturalWidth})`);
    } else if (!img.shown) {
      problems.push(`chart ${img.name} is not shown`);
    }
  }
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`${report}: ${images.length} charts, ${images.filter((i) => i.naturalWidth > 0).length} loaded`);
} catch (err) {
  problems.push(`cannot check the page: ${err.message}`);
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
for (const p of problems) console.error(`report check: ${p}`);
if (problems.length > 0) {
  console.error(`report check: FAILED, ${problems.length} problem(s) in ${report}`);
  process.exit(1);
}
console.log('report check: passed, no console error, every chart shown');
