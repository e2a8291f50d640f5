// A home visit in the browser: the grid worker records it on the household page, adds a tag to
// a member in the same step, and sees it in the history and on the member's page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, startBrowser, gridWorkerAtHousehold, shots } from './harness.mjs';

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

test('a grid worker records a visit that adds a tag', async () => {
  const page = await gridWorkerAtHousehold(browser, server);
  const household = page.url();

  await page.getByText('记录走访').click();
  await page.getByRole('radio', { name: '在家', exact: true }).check();
  await page.getByLabel('走访事由').fill('冬季安全走访');
  await page.getByLabel('需求与意见建议').fill('楼道灯坏了');
  await page.getByLabel('同时添加标签（可选）').selectOption({ label: '留守儿童' });
  const member = await page.getByLabel('给成员').locator('option').first().innerText();
  await page.getByRole('button', { name: '保存走访记录' }).click();
  await page.waitForURL(household);

  const history = page.locator('h2', { hasText: '走访记录' }).locator('xpath=following-sibling::ul[1]');
  assert.match(await history.innerText(), /在家[\s\S]*冬季安全走访[\s\S]*楼道灯坏了/);
  await page.screenshot({ path: join(shots, 'visit-recorded-360.png'), fullPage: true });

  await page.getByRole('link', { name: new RegExp(member) }).first().click();
  assert.match(await page.locator('main').innerText(), /留守儿童/);
  await page.close();
});
