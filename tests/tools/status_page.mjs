// status_page.mjs - load sluice's status page in Debian's Chromium
// (headless, through playwright-core) with the bearer token, and print what
// the rendered DOM shows, as JSON:
//   {"status": HTTP status, "title": ..., "state": ..., "lag": ...,
//    "streams": [[cell, ...], ...], "inputs": [[cell, ...], ...],
//    "refresh": content of <meta http-equiv=refresh>, "scripts": <script> count}
//
// usage: node status_page.mjs URL TOKEN_FILE [SCREENSHOT.png]
//
// The browser runs with a fresh user-data-dir (removed at exit), no network
// services of its own, and the token sent as an extra HTTP header, so the
// page is exactly what an operator's browser would get.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, tokenFile, shot] = process.argv.slice(2);
if (!url || !tokenFile) {
  console.error('usage: node status_page.mjs URL TOKEN_FILE [SCREENSHOT.png]');
  process.exit(2);
}
const token = readFileSync(tokenFile, 'utf8').trimEnd();
const dir = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
    timeout: 30000,
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const resp = await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  const got = await page.evaluate(() => {
    const rows = (id) => [...document.querySelectorAll(`#${id} tr`)]
      .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))
      .filter((r) => r.length);
    const meta = document.querySelector('meta[http-equiv="refresh"]');
    return {
      title: document.title,
      state: document.querySelector('#state')?.textContent ?? null,
      lag: document.querySelector('#lag')?.textContent ?? null,
      streams: rows('streams'),
      inputs: rows('inputs'),
      refresh: meta ? meta.getAttribute('content') : null,
      scripts: document.querySelectorAll('script').length,
    };
  });
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ status: resp.status(), ...got }));
} finally {
  if (ctx) await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}
