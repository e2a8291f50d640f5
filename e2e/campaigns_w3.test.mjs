// W3 in the browser: community staff plan a delivery to the elderly party members (老党员) of one
// compound, watching the live preview, with a three-field form, and launch it; the grid worker
// opens their doors left on the phone and records two deliveries with "save and next door", one
// of them contactless; staff see the two on the dashboard's coverage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, startBrowser, signIn, shots } from './harness.mjs';
import { snap, preview, targets, meter } from './campaigns.mjs';

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

const NAME = '老党员送书上门';

test('W3: a delivery to one compound\'s elderly party members, two doors recorded', async () => {
  const { base, accounts } = server;
  const grid = accounts['demo-grid'].area;
  const staff = await browser.newPage({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  await signIn(staff, base, 'demo-community', accounts['demo-community'].password);
  await staff.getByRole('navigation').getByRole('link', { name: '专项行动' }).click();
  await staff.waitForURL(`${base}/campaigns`);
  await staff.getByRole('link', { name: '新建专项行动' }).click();
  await staff.waitForURL(`${base}/campaigns/new`);

  await staff.locator('input[name=name]').fill(NAME);
  await staff.locator('select[name=kind]').selectOption('delivery');
  await staff.locator('textarea[name=purpose]').fill('为老党员送书上门，了解健康和居住情况，收集意见建议');
  // The grid worker's grid; its compounds come in with the preview.
  await preview(staff, () => staff.locator('select[name=area]').selectOption(grid));
  const everyone = await targets(staff);
  await preview(staff, () => staff.getByRole('checkbox', { name: '老党员', exact: true }).check());
  const party = await targets(staff);
  assert.ok(party > 0 && party < everyone, `the tag narrows the list: ${party} of ${everyone}`);
  // One compound with at least two of them, found from the data rather than assumed.
  const compounds = staff.locator('#area-parts input.compound');
  const n = await compounds.count();
  assert.ok(n > 0, 'the grid has compounds');
  let count = 0;
  for (let i = 0; i < n && count < 2; i++) {
    await preview(staff, () => compounds.nth(i).check());
    count = await targets(staff);
    if (count < 2) await preview(staff, () => compounds.nth(i).uncheck());
  }
  assert.ok(count >= 2, 'a compound of the grid has two elderly party members or more');
  assert.match(await staff.locator('#preview').innerText(), new RegExp(`${count}\\s*人`));

  await staff.locator('input[name=f0_label]').fill('健康状况');
  await staff.locator('input[name=f0_required]').check();
  await staff.locator('input[name=f1_label]').fill('居住情况');
  await staff.locator('select[name=f1_kind]').selectOption('choice');
  await staff.locator('input[name=f1_options]').fill('独居，与家人同住，养老机构');
  await staff.locator('input[name=f2_label]').fill('意见建议');
  await snap(staff, 'campaign-plan');
  await staff.getByRole('button', { name: '保存为草稿' }).click();
  await staff.waitForURL(/\/campaigns\/\d+$/);
  const dashboard = staff.url();
  assert.equal(await staff.locator('[data-targets]').getAttribute('data-targets'), String(count));
  assert.match(await staff.locator('main').innerText(), /健康状况 · 文字 · 完成时必填[\s\S]*居住情况 · 单选/);
  await staff.getByRole('button', { name: '启动行动' }).click();
  await staff.waitForURL(dashboard);
  assert.match(await staff.locator('h1').innerText(), /进行中/);

  // The grid worker, on a phone: today → doors left → the first door.
  const gw = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  const weigh = meter(gw);
  const weights = {};
  weights.home_with_campaign = await weigh(() => signIn(gw, base, 'demo-grid', accounts['demo-grid'].password));
  const card = gw.getByRole('region', { name: '专项行动' });
  assert.match(await card.innerText(), new RegExp(`${NAME}[\\s\\S]*待我入户 ${count} 户`));
  weights.doors_left = await weigh(() => card.getByRole('link', { name: new RegExp(NAME) }).click());
  await gw.waitForURL(/\/campaigns\/\d+\/doors$/);
  assert.equal(await gw.locator('a.door').count(), count);
  await snap(gw, 'campaign-doors');

  weights.door = await weigh(() => gw.locator('a.door').first().click());
  await gw.waitForURL(/\/campaign-items\/\d+$/);
  const first = gw.url();
  await gw.getByLabel(/健康状况/).fill('身体硬朗，行动自如');
  await gw.getByRole('radio', { name: '独居', exact: true }).check();
  await gw.getByLabel(/意见建议/).fill('希望多组织老党员学习活动');
  await snap(gw, 'campaign-door');
  await gw.getByRole('button', { name: '保存并下一户' }).click();
  await gw.waitForURL((u) => u.pathname.startsWith('/campaign-items/') && u.href !== first);
  const second = gw.url();

  // The next door in walking order: this one contactless (hung on the door, with a call).
  await gw.getByRole('radio', { name: '无接触', exact: true }).check();
  await gw.getByLabel(/健康状况/).fill('居家观察中，电话联系，状态良好');
  await gw.getByRole('radio', { name: '与家人同住', exact: true }).check();
  await gw.getByRole('button', { name: '保存并下一户' }).click();
  await gw.waitForURL((u) => u.href !== second);
  if (count > 2) assert.match(gw.url(), /\/campaign-items\/\d+$/, 'on to the third door');

  await gw.goto(second);
  const door = await gw.locator('main').innerText();
  assert.match(door, /登记记录[\s\S]*已完成 · 无接触/);
  assert.match(door, /健康状况[\s\S]*居家观察中/);
  assert.equal(await gw.locator('form[action$="/outcome"]').count(), 0, 'a finished door takes no second outcome');
  weights.doors_after = await weigh(() => gw.goto(`${dashboard}/doors`));
  assert.equal(await gw.locator('a.door').count(), count - 2, 'two doors fewer');

  writeFileSync(join(shots, '..', 'page-weights-campaigns.json'), JSON.stringify(weights, null, 2));
  console.log('campaign page weights (bytes):', weights);
  for (const [name, b] of Object.entries(weights)) {
    if (name !== 'home_with_campaign') assert.ok(b <= 30 * 1024, `${name}: ${b} B`);
  }

  // Staff see the coverage: two done against the frozen list.
  await staff.reload();
  assert.equal(await staff.locator('tfoot [data-done]').getAttribute('data-done'), '2');
  assert.match(await staff.locator('main').innerText(), new RegExp(`已登记 2 / ${count}`));
  await snap(staff, 'campaign-dashboard');
  await staff.goto(`${base}/campaigns`);
  assert.match(await staff.locator('main').innerText(), new RegExp(`${NAME}[\\s\\S]*进行中`));
  await snap(staff, 'campaigns');
  await gw.close();
  await staff.close();
});
