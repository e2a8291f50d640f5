// Helpers for the campaign browser tests: screenshots at both widths, waiting on the plan
// form's live preview, and bytes on the wire per step (P8).
import { join } from 'node:path';
import { shots } from './harness.mjs';

/// Full-page screenshots at 360 and 1280 px, then back to the page's own size.
export async function snap(page, name) {
  const own = page.viewportSize();
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    // Let the new layout paint before a full-page capture.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(own);
}

/// Does `act` on the plan form and waits for the live preview it sets off to be swapped in.
export async function preview(page, act) {
  const answered = page.waitForResponse((r) => r.url().endsWith('/campaigns/preview') && r.request().method() === 'POST');
  await act();
  await answered;
  // htmx swaps right after the response; wait until nothing is in flight.
  await page.waitForFunction(() => !document.querySelector('.htmx-request'));
}

/// The number of targets the preview shows now.
export async function targets(page) {
  return Number(await page.locator('#preview [data-targets]').getAttribute('data-targets'));
}

/// Counts the bytes a page receives (compressed bodies and headers) while `go` runs.
export function meter(page) {
  let bytes = 0;
  page.on('requestfinished', async (req) => {
    const s = await req.sizes();
    bytes += s.responseBodySize + s.responseHeadersSize;
  });
  return async (go) => {
    bytes = 0;
    await go();
    await page.waitForLoadState('networkidle');
    return bytes;
  };
}

/// Today and a day some days later, as date inputs want them.
export function day(offset = 0) {
  const d = new Date(Date.now() + offset * 86400000);
  return d.toISOString().slice(0, 10);
}
