// The console's browser test, run by cmd/streamsql's TestConsoleInBrowser against a live
// `streamsql serve --http` (see that test for the init script it serves):
//
//   node console.test.mjs BASE_URL SCREENSHOT_DIR
//
// It drives Debian's Chromium through playwright-core (no browser download) and prints one JSON
// line of findings; any failed check exits 1 with the reason.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node console.test.mjs BASE_URL SCREENSHOT_DIR');
  process.exit(2);
}
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'streamsql-console-'));
const findings = {};
let ctx;

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(10000);

  // 1. The engine page lists the running datagen query and the failed one with its error.
  await page.goto(base + '/');
  const clicks = page.locator('tr[data-query="clicks_per_second"]');
  await clicks.locator('[data-status="running"]').waitFor();
  const broken = page.locator('tr[data-query="broken"]');
  await broken.locator('[data-status="failed"]').waitFor();
  const brokenError = await broken.locator('td.error').innerText();
  check(brokenError.includes('division by zero'), `the failed query's row shows ${JSON.stringify(brokenError)}, not its error`);
  // Its epochs count goes up while we look (live, no reload).
  const epochs = async () => Number(await clicks.locator('td').nth(6).innerText());
  const e0 = await epochs();
  const row = await clicks.elementHandle();
  await page.waitForFunction((n) => Number(document.querySelector('tr[data-query="clicks_per_second"] td:nth-child(7)')?.textContent) > n, e0, { timeout: 15000 });
  // The redraw updates the row in place: a row replaced on every epoch swallows clicks whose
  // mouse-down and mouse-up land on two generations of its link.
  check(await row.evaluate((tr) => tr.isConnected), 'the query row was replaced by a redraw instead of updated in place');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(shots, 'console-overview.png'), fullPage: true });

  // 2. The query page: the input-rate chart's latest point moves within 5 s.
  await page.locator('tr[data-query="clicks_per_second"] a').click();
  await page.waitForURL(/#\/query\/clicks_per_second$/, { timeout: 15000 });
  const chart = page.locator('#chart-rate');
  await page.waitForFunction(() => Number(document.querySelector('#chart-rate')?.dataset.points) >= 2, null, { timeout: 15000 });
  const t0 = Number(await chart.getAttribute('data-last-t'));
  const started = Date.now();
  await page.waitForFunction((t) => Number(document.querySelector('#chart-rate')?.dataset.lastT) > t, t0, { timeout: 5000 });
  findings.chartMovedAfterMs = Date.now() - started;
  findings.lastInputRate = Number(await chart.getAttribute('data-last-value'));
  check(findings.lastInputRate > 0, `the latest input rate is ${findings.lastInputRate}, want > 0`);
  // The plan diagram shows the aggregation's state.
  const state = await page.locator('#plan .node.stateful .state').first().innerText();
  check(/state: \d+ rows/.test(state), `the plan shows no operator state: ${JSON.stringify(state)}`);
  // An open JSON view of a progress record stays open while newer epochs arrive.
  // (One element handle: a locator would resolve to whatever row is newest at each step.)
  const newest = await page.locator('#progress tbody tr').first().elementHandle();
  const openedEpoch = Number(await newest.evaluate((tr) => tr.querySelector('td').textContent));
  const details = await newest.$('details');
  await (await details.$('summary')).click();
  await page.waitForFunction((n) => Number(document.querySelector('#progress tbody tr td')?.textContent) > n, openedEpoch, { timeout: 15000 });
  check(await details.evaluate((d) => d.isConnected && d.open), 'an open progress record closed when a newer epoch arrived');
  await details.evaluate((d) => { d.open = false; });
  await page.waitForTimeout(3000); // a few more points for the screenshot
  await page.screenshot({ path: join(shots, 'console-query.png'), fullPage: true });
  // The part README shows (docs/console.png): the figures, the charts and the plan.
  await page.screenshot({ path: join(shots, 'console-query-top.png'), clip: { x: 0, y: 0, width: 1400, height: 1300 } });

  // 3. STOP stops it.
  await page.locator('#stop').click();
  await page.locator('#query-status [data-status="stopped"]').waitFor({ timeout: 15000 });
  check(await page.locator('#stop').isDisabled(), 'STOP is still enabled on a stopped query');

  // 4. The SQL box returns a view's rows, with a chart for its time column.
  await page.goto(base + '/#/sql');
  await page.locator('#sql-input').fill('SELECT * FROM hourly ORDER BY hour');
  await page.locator('#sql-run').click();
  await page.locator('#sql-output table.result-table').waitFor();
  findings.viewRows = await page.locator('#sql-output table.result-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  await page.locator('#sql-chart').waitFor();
  // A syntax error shows the caret under the offending token.
  await page.locator('#sql-input').fill('SELECT hour\nFROM hourly WHERE WHERE');
  await page.locator('#sql-run').click();
  findings.caret = await page.locator('#sql-output .sql-error pre.caret').innerText();

  // 5. The failed query's page shows its error.
  await page.goto(base + '/#/query/broken');
  await page.locator('#query-error:not([hidden])').waitFor();
  findings.failedQueryError = await page.locator('#query-error').innerText();
  check(findings.failedQueryError.includes('division by zero'), `the failed query's page shows ${JSON.stringify(findings.failedQueryError)}`);
  check(pageErrors.length === 0, 'the page threw: ' + pageErrors.join('; '));
  console.log(JSON.stringify(findings));
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  console.log(JSON.stringify(findings));
  process.exitCode = 1;
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
