// Work orders in the browser. W6: a grid worker reports a problem and it is accepted,
// dispatched, handled, resolved and closed with the resident's satisfaction, every step on the
// timeline. W1's assist step: the grid worker asks a colleague for help, the colleague (signed in
// as themselves) accepts and logs what they did, and the grid worker sees it on the timeline.
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

async function report(page, base, title) {
  await page.goto(`${base}/work-orders/new`);
  await page.locator('select[name=category_id]').selectOption({ label: '设施报修' });
  await page.locator('input[name=title]').fill(title);
  await page.locator('textarea[name=description]').fill('3号楼2单元门口路灯不亮，居民夜间出行不便');
  await page.getByRole('button', { name: '上报', exact: true }).click();
  await page.waitForURL(/\/work-orders\/\d+$/);
  return page.url();
}

/// Takes the action whose form is `#act-{code}` on the order page, after `fill`.
async function act(page, code, fill = async () => {}) {
  const form = page.locator(`form#act-${code}`);
  await fill(form);
  await form.getByRole('button').click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('[role=alert]').count(), 0, `${code}: ${await page.locator('main').innerText()}`);
}

test('W6: a work order from report to close', async () => {
  const { base, accounts } = server;
  const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  await signIn(page, base, 'demo-grid', accounts['demo-grid'].password);
  const order = await report(page, base, '3号楼路灯不亮');
  assert.match(await page.locator('main').innerText(), /已上报[\s\S]*受理后开始计时/);
  // Only the steps the state allows are offered.
  assert.deepEqual(await page.locator('form.act').evaluateAll((fs) => fs.map((f) => f.id)), ['act-accept', 'act-reject']);

  await act(page, 'accept');
  assert.match(await page.locator('dl.facts').innerText(), /截止时间[\s\S]*剩余时间/);
  await act(page, 'dispatch', (f) => f.getByLabel('处置单位').fill('路灯管理所'));
  await act(page, 'start');
  await act(page, 'resolve', (f) => f.getByLabel('办理情况').fill('更换灯泡，已亮'));
  await page.screenshot({ path: join(shots, 'work-order-resolved-360.png'), fullPage: true });
  await act(page, 'close', (f) => f.getByLabel('满意度').selectOption({ label: '满意' }));
  await page.waitForURL(order);

  assert.match(await page.locator('.chip.state').innerText(), /已关闭/);
  const timeline = await page.locator('ol.timeline').innerText();
  assert.match(timeline, /上报[\s\S]*受理[\s\S]*派遣[\s\S]*路灯管理所[\s\S]*开始处置[\s\S]*办结[\s\S]*更换灯泡，已亮[\s\S]*回访关闭[\s\S]*satisfied/);
  assert.equal(await page.locator('form.act').count(), 1, 'a closed order offers only a reopen');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(shots, 'work-order-closed-1280.png'), fullPage: true });

  // The list shows it; the district's overdue board has nothing overdue yet.
  await page.goto(`${base}/work-orders?state=closed`);
  assert.match(await page.locator('ul.orders').innerText(), /3号楼路灯不亮/);
  await page.close();
});

test('W1: a colleague accepts an assist request and logs what was done', async () => {
  const { base, accounts } = server;
  const asker = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  await signIn(asker, base, 'demo-grid', accounts['demo-grid'].password);
  const order = await report(asker, base, '楼道堆物影响窗户安装');

  await asker.getByText('请同事协助').click();
  await asker.getByRole('checkbox', { name: /演示社区工作人员/ }).check();
  await asker.getByLabel('需要协助的事项').fill('请帮忙清理4楼楼道杂物，明天上午装窗');
  await asker.getByRole('button', { name: '发送协助请求' }).click();
  await asker.waitForURL(order);
  assert.match(await asker.locator('ul.assists').innerText(), /请 演示社区工作人员 协助[\s\S]*待接受/);
  await asker.screenshot({ path: join(shots, 'assist-requested-360.png'), fullPage: true });

  // The colleague, on their own phone: the request is on their today page.
  const helper = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  await signIn(helper, base, 'demo-community', accounts['demo-community'].password);
  const forMe = helper.locator('[aria-labelledby=assists-for-me]');
  assert.match(await forMe.innerText(), /楼道堆物影响窗户安装/);
  await forMe.getByRole('link', { name: /楼道堆物影响窗户安装/ }).click();
  await helper.waitForURL(order);
  await helper.locator('ul.assists').getByRole('button', { name: '接受' }).click();
  await helper.waitForURL(order);
  await helper.locator('ul.assists').getByLabel('做了什么').fill('和网格员一起清走三袋杂物，楼道已通');
  await helper.locator('ul.assists').getByRole('button', { name: '完成并记录' }).click();
  await helper.waitForURL(order);
  assert.match(await helper.locator('ul.assists').innerText(), /已完成[\s\S]*清走三袋杂物/);
  await helper.setViewportSize({ width: 1280, height: 900 });
  await helper.screenshot({ path: join(shots, 'assist-done-1280.png'), fullPage: true });

  // The grid worker sees who helped and what they did, in the order's history.
  await asker.reload();
  const timeline = await asker.locator('ol.timeline').innerText();
  assert.match(timeline, /请求协助[\s\S]*请 演示社区工作人员 协助[\s\S]*接受协助[\s\S]*demo-community[\s\S]*协助完成[\s\S]*清走三袋杂物/);
  assert.match(await asker.locator('.chip.state').innerText(), /已上报/, 'help does not move the order');
  await asker.screenshot({ path: join(shots, 'assist-on-timeline-360.png'), fullPage: true });
  await helper.close();
  await asker.close();
});
