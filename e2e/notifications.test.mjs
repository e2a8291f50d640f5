// Notifications and metrics in the browser: a grid worker reports a work order, community staff
// dispatch it, the job runner delivers the "assigned" notification to the grid worker's inbox,
// who marks it read in place; the metrics page counts the order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, startBrowser, signIn, shots } from './harness.mjs';

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

/// A signed-in page and an API helper that sends the session's CSRF token.
async function session(username) {
  const { base, accounts } = server;
  const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  await signIn(page, base, username, accounts[username].password);
  const me = await (await page.request.get(`${base}/api/v1/session`)).json();
  const api = async (method, path, data) => {
    const r = await page.request.fetch(`${base}/api/v1${path}`, {
      method, data, headers: { 'x-csrf-token': me.csrf_token },
    });
    assert.ok(r.ok(), `${method} ${path}: ${r.status()} ${await r.text()}`);
    return r.json();
  };
  return { page, api };
}

test('an assigned work order reaches the grid worker, who marks it read; metrics count it', async () => {
  const { base } = server;
  const worker = await session('demo-grid');
  const grid = (await worker.api('GET', '/areas?level=grid&limit=1')).items[0];
  const category = (await worker.api('GET', '/work-order-categories')).find((c) => c.code === 'streetlight');
  const order = await worker.api('POST', '/work-orders', {
    category_id: category.id, title: '3号楼门口路灯不亮', description: '晚上很黑', area_id: grid.id,
  });

  const staff = await session('demo-community');
  await staff.api('POST', `/work-orders/${order.id}/actions`, { action: 'accept' });
  await staff.api('POST', `/work-orders/${order.id}/actions`, { action: 'dispatch', unit: '路灯管理所' });
  await staff.page.close();

  // Delivery runs as a background job: the inbox shows it within a few seconds.
  const item = worker.page.locator('ul.notifications li', { hasText: '3号楼门口路灯不亮' });
  for (let i = 0; i < 40 && (await item.count()) === 0; i++) {
    await worker.page.goto(`${base}/notifications`);
    if ((await item.count()) === 0) await worker.page.waitForTimeout(250);
  }
  assert.equal(await item.count(), 1, 'the assigned notification is in the inbox');
  assert.match(await item.innerText(), /工单已派遣/);
  assert.match(await worker.page.locator('main').innerText(), /未读 1 条/);
  await worker.page.screenshot({ path: join(shots, 'notifications-360.png'), fullPage: true });

  await item.getByRole('button', { name: '标为已读' }).click();
  await item.getByText('已读', { exact: true }).waitFor();
  assert.equal(await item.getByRole('button').count(), 0, 'no mark-read button once read');
  const inbox = await worker.api('GET', '/notifications');
  assert.equal(inbox.unread, 0);

  await worker.page.goto(`${base}/work-orders/metrics`);
  const total = worker.page.locator('table.figures tfoot tr');
  assert.match(await total.innerText(), /合计\s+1\b/);
  await worker.page.screenshot({ path: join(shots, 'work-order-metrics-360.png'), fullPage: true });
  await worker.page.close();
});
