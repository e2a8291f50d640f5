// W2 in the browser: community staff plan a sweep over one building for an installation, name
// themselves the desk, launch it, set the building's slot and open the residents' link; a
// resident with no account opens the link, picks the building, gives a real door's unit and
// room, asks "away during my slot, please act for me" and gets a reference (and the same kind
// of answer for a room that is on no list); staff find the request on the requests page and on
// the door, and mark it handled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, signIn } from './harness.mjs';
import { snap, preview, targets, day } from './campaigns.mjs';

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

const NAME = '节能窗改造入户摸排';
const ACT_FOR_ME = '届时不在家，请代为办理';

test('W2: a sweep with a slot, a resident pre-registers through the public link, staff handle it', async () => {
  const { base, accounts } = server;
  const grid = accounts['demo-grid'].area;
  const staff = await browser.newPage({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  await signIn(staff, base, 'demo-community', accounts['demo-community'].password);
  await staff.goto(`${base}/campaigns/new`);
  await staff.locator('input[name=name]').fill(NAME);
  await staff.locator('select[name=kind]').selectOption('sweep');
  await staff.locator('textarea[name=purpose]').fill('节能窗按楼栋安装，请确认安装时段家中有人；不在家的可提前委托');
  await preview(staff, () => staff.locator('select[name=area]').selectOption(grid));
  const households = await targets(staff);
  // One building of the grid's first compound.
  await staff.locator('#area-parts details summary').first().click();
  const building = staff.locator('#area-parts details input[name=places]').first();
  await preview(staff, () => building.check());
  const doors = await targets(staff);
  assert.ok(doors > 0 && doors < households, `one building: ${doors} of ${households} households`);
  assert.match(await staff.locator('#preview').innerText(), new RegExp(`${doors}\\s*户`));
  await staff.locator('select[name=desk]').selectOption({ label: '演示社区工作人员 · 社区工作人员' });
  await staff.getByRole('button', { name: '保存为草稿' }).click();
  await staff.waitForURL(/\/campaigns\/\d+$/);
  const dashboard = staff.url();
  assert.match(await staff.locator('main').innerText(), /居民预约登记受理人\s*演示社区工作人员/);
  await staff.getByRole('button', { name: '启动行动' }).click();
  await staff.waitForURL(dashboard);

  // The building's installation slot, then the public link.
  const slot = staff.locator('form[action$="/slots"]');
  await slot.locator('input[name=starts_on]').fill(day(2));
  await slot.locator('input[name=ends_on]').fill(day(4));
  await slot.locator('input[name=note]').fill('安装期间需有人在家');
  await slot.getByRole('button', { name: '设置时段' }).click();
  await staff.waitForURL(/\?slots=\d+$/);
  assert.match(await staff.locator('[role=status]').innerText(), new RegExp(`已为 ${doors} 户设置时段`));
  assert.match(await staff.locator('table.buildings').innerText(), /安装期间需有人在家/);
  await staff.getByRole('button', { name: '开放链接' }).click();
  await staff.waitForURL(dashboard);
  const link = await staff.locator('#public-url').getAttribute('href');
  assert.match(link, /\/c\/[A-Za-z0-9_-]{22}$/);
  assert.equal(await staff.locator('.qr svg').count(), 1, 'a QR code to print');
  await snap(staff, 'campaign-link');

  // A real door of the campaign: its unit and room, from the doors list.
  await staff.goto(`${dashboard}/doors?all=1`);
  const place = await staff.locator('a.door b').first().innerText();
  const [, unit, room] = place.match(/(.+?)单元(.+?)室/);
  const group = await staff.locator('section.building h2').first().innerText();
  assert.match(await staff.locator('section.building').first().innerText(), /时段：[\s\S]*安装期间需有人在家/);

  // The resident, with no account, on their phone.
  const anon = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  const resident = await anon.newPage();
  await resident.goto(link);
  assert.match(await resident.locator('h1').innerText(), new RegExp(NAME));
  assert.equal(await resident.locator('form[action="/logout"]').count(), 0, 'no account here');
  await resident.getByLabel('楼栋').selectOption({ label: group });
  await resident.getByLabel('单元').fill(unit);
  await resident.getByLabel('户室号').fill(room);
  await resident.getByRole('radio', { name: ACT_FOR_ME }).check();
  await resident.getByLabel('留言（可选）').fill('11月出差，钥匙可交网格员');
  await resident.getByLabel('您的姓名').fill('王建国');
  await resident.getByLabel('手机号').fill('13912345678');
  await snap(resident, 'campaign-public');
  await resident.getByRole('button', { name: '提交登记' }).click();
  const reference = (await resident.locator('#reference').innerText()).trim();
  assert.match(reference, /^[A-Z2-9]{8}$/);
  await snap(resident, 'campaign-public-received');

  // A room on no list gets the same kind of answer: nothing learned about who lives where.
  await resident.goto(link);
  await resident.getByLabel('户室号').fill('9999');
  await resident.getByLabel('您的姓名').fill('路人甲');
  await resident.getByLabel('手机号').fill('13700001111');
  await resident.getByRole('button', { name: '提交登记' }).click();
  const other = (await resident.locator('#reference').innerText()).trim();
  assert.match(other, /^[A-Z2-9]{8}$/);
  assert.notEqual(other, reference);
  await anon.close();

  // Staff: the requests page (open first, masked phone), then the door, marked handled there.
  await staff.goto(`${dashboard}/requests`);
  const list = await staff.locator('main').innerText();
  assert.match(list, new RegExp(`${ACT_FOR_ME}[\\s\\S]*${reference}`));
  assert.doesNotMatch(list, /13912345678/, 'phones are masked');
  assert.match(list, /未匹配到名单中的户/, 'the unknown room waits to be checked');
  await snap(staff, 'campaign-requests');
  const mine = staff.locator('li.request', { hasText: reference });
  await mine.getByRole('button', { name: '显示电话以便联系' }).click();
  assert.match(await staff.locator('li.request', { hasText: reference }).innerText(), /13912345678/);
  await staff.locator('li.request', { hasText: reference }).locator('a[href^="/campaign-items/"]').click();
  await staff.waitForURL(/\/campaign-items\/\d+$/);
  const door = staff.url();
  assert.match(await staff.locator('main').innerText(), new RegExp(`居民预约登记[\\s\\S]*${ACT_FOR_ME}[\\s\\S]*${reference}`));
  assert.ok((await staff.locator('h1').innerText()).includes(place), 'the door the resident named');
  await staff.getByRole('button', { name: '标为已处理' }).click();
  await staff.waitForURL(door);
  assert.match(await staff.locator('li.request', { hasText: reference }).innerText(), /已处理[\s\S]*demo-community/);

  // The door is marked on the doors list; the desk's today page shows the one still open.
  await staff.goto(`${base}/`);
  assert.match(await staff.getByRole('region', { name: '专项行动' }).innerText(), /待我处理 1 条/);
  await staff.close();
});
