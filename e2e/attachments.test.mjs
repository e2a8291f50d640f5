// Photos with a visit: the grid worker records a visit on the household page with a photo taken
// on the phone; the history shows its thumbnail, which links to the photo, served without the
// location the camera wrote into it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, startBrowser, gridWorkerAtHousehold, shots } from './harness.mjs';

// A 64 × 48 JPEG whose Exif, XMP and comment hold this location (made by wangge-media's
// test fixtures).
const fixture = join(import.meta.dirname, 'fixtures', 'photo-with-location.jpg');
const LOCATION = 'GPS 37.8706N 112.5489E';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await startBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

test('a visit recorded with a photo shows its thumbnail, and the photo has no location', async () => {
  const { base } = server;
  const page = await gridWorkerAtHousehold(browser, server);
  const household = page.url();

  await page.getByText('记录走访').click();
  await page.getByRole('radio', { name: '在家', exact: true }).check();
  await page.getByLabel('走访事由').fill('入户拍照');
  const input = page.locator('input[type=file][name=photos]');
  assert.equal(await input.getAttribute('capture'), 'environment');
  assert.match(await input.getAttribute('accept'), /image\//);
  await input.setInputFiles(fixture);
  await page.getByRole('button', { name: '保存走访记录' }).click();
  await page.waitForURL(household);

  const history = page.locator('h2', { hasText: '走访记录' }).locator('xpath=following-sibling::ul[1]');
  const thumb = history.locator('img[src$="/thumbnail"]').first();
  await thumb.waitFor();
  assert.ok(await thumb.evaluate((img) => img.complete && img.naturalWidth === 64), 'thumbnail decoded');
  await page.screenshot({ path: join(shots, 'visit-with-photo-360.png'), fullPage: true });

  const href = await history.locator('a:has(img)').first().getAttribute('href');
  const photo = await page.request.get(base + href);
  assert.equal(photo.status(), 200);
  assert.equal(photo.headers()['content-type'], 'image/jpeg');
  assert.equal(photo.headers()['x-content-type-options'], 'nosniff');
  const bytes = await photo.body();
  assert.equal(bytes[0], 0xff);
  assert.ok(!bytes.includes(Buffer.from(LOCATION)), 'the location was stripped');
  await page.close();
});
