// W1 in the browser: a resident away on business entrusts their door key for the window
// replacement. The grid worker records the entrustment on the household, makes the resident's
// link and reads them a code; the resident, with no account, opens the link, enters the code and
// confirms. The grid worker records each hand-over in two taps — received from the resident
// (the resident confirms), into the key cabinet, out again, lent to the contractor — reports the
// clutter in front of the windows as a work order and asks a colleague for help, uploads a photo
// of the finished windows, takes the key back from the contractor and returns it to the resident.
// The resident's page then shows the whole chain with receipt codes, the photo, who looked at the
// household's records, and the resident confirms the key is back. The receipt prints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, startBrowser, gridWorkerAtHousehold, shots } from './harness.mjs';
import { snap, meter } from './campaigns.mjs';

const fixture = join(import.meta.dirname, 'fixtures', 'photo-with-location.jpg');
const CODE = /[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}/;

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

/// Opens the hand-over form of `kind` (one tap), lets `fill` complete it, saves it (the second
/// tap) and returns the receipt code the page reports.
async function handOver(page, kind, fill = async () => {}) {
  const form = page.locator(`#record-${kind}`);
  await form.locator(':scope > summary').click();
  await fill(form);
  await form.getByRole('button', { name: /^保存：/ }).click();
  await page.waitForURL(/\/entrustments\/\d+\?recorded=\d+/);
  const notice = await page.locator('[role=status]').first().innerText();
  assert.equal(await page.locator('[role=alert]').count(), 0, `${kind}: ${await page.locator('main').innerText()}`);
  return notice.match(CODE)[0];
}

test('W1: an entrusted key from the resident to the contractor and back, on the resident\'s own page', async () => {
  const { base } = server;
  const gw = await gridWorkerAtHousehold(browser, server);
  const weigh = meter(gw);
  const weights = {};
  const household = gw.url();
  const address = (await gw.locator('main > p.muted').first().innerText()).trim();

  // The entrustment, recorded on the household with the resident on the phone.
  await gw.getByRole('link', { name: '委托与钥匙托管', exact: true }).click();
  await gw.waitForURL(/\/entrustments\/new\?household=\d+$/);
  const resident = await gw.locator('#members option').first().getAttribute('value');
  await gw.getByLabel('委托人姓名').fill(resident);
  await gw.getByLabel('联系电话').fill('13912345678');
  await gw.getByLabel('委托事由').fill('更换节能窗');
  await gw.getByRole('checkbox', { name: '为施工人员开门' }).check();
  await gw.getByRole('checkbox', { name: '拍照' }).check();
  assert.ok(await gw.getByRole('checkbox', { name: '保管钥匙' }).isChecked());
  assert.ok(await gw.getByRole('radio', { name: '电话' }).isChecked());
  assert.ok(await gw.getByRole('checkbox', { name: /演示网格员/ }).isChecked(), 'the recorder is named');
  await snap(gw, 'entrustment-new');
  await gw.getByRole('button', { name: '保存，等待居民确认' }).click();
  await gw.waitForURL(/\/entrustments\/\d+$/);
  const entrustment = gw.url();
  assert.match(await gw.locator('h1').innerText(), /更换节能窗[\s\S]*待居民确认/);
  assert.match(await gw.locator('main').innerText(), /139\*\*\*\*5678/);
  assert.doesNotMatch(await gw.locator('main').innerText(), /13912345678/, 'the phone is masked');
  assert.equal(await gw.locator('details.key-action').count(), 0, 'nothing happens to the key before the resident confirms');

  // The resident's link (shown once, with a QR code) and a code read out on the phone.
  await gw.getByRole('button', { name: '生成居民查看链接' }).click();
  const link = await gw.locator('#resident-url').getAttribute('href');
  assert.match(link, /\/r\/[A-Za-z0-9_-]{22}$/);
  assert.equal(await gw.locator('.qr svg').count(), 1);
  await gw.getByRole('button', { name: '发验证码' }).click();
  const code = (await gw.locator('#resident-code').innerText()).trim();
  assert.match(code, /^\d{6}$/);

  // The resident, far away, on their own phone and without an account.
  const anon = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  const rp = await anon.newPage();
  const rweigh = meter(rp);
  weights.resident_first_view = await rweigh(() => rp.goto(link));
  assert.doesNotMatch(await rp.locator('main').innerText(), /更换节能窗/, 'nothing shown before the code');
  assert.equal(await rp.locator('form[action="/logout"]').count(), 0, 'no account here');
  await snap(rp, 'resident-code');
  await rp.getByLabel('验证码').fill(code);
  await rp.getByRole('button', { name: '查看' }).click();
  await rp.waitForURL(link);
  assert.match(await rp.locator('main').innerText(), new RegExp(`${resident}[\\s\\S]*待居民确认[\\s\\S]*更换节能窗`));
  await rp.getByRole('button', { name: '确认委托' }).click();
  await rp.waitForURL(/\?done=confirm$/);
  assert.match(await rp.locator('[role=status]').innerText(), /您已确认委托/);
  assert.match(await rp.locator('main').innerText(), /生效中/);

  // The hand-overs, two taps each.
  await gw.goto(entrustment);
  assert.match(await gw.locator('h1').innerText(), /生效中/);
  assert.deepEqual(
    await gw.locator('details.key-action').evaluateAll((ds) => ds.map((d) => d.id)),
    ['record-received_from_resident'],
    'only what the custody rules allow now',
  );
  const receipts = [];
  receipts.push(await handOver(gw, 'received_from_resident', async (f) => {
    assert.ok(await f.getByRole('radio', { name: '居民确认' }).isChecked(), 'the resident confirms by default');
  }));
  assert.match(await gw.locator('.keynow').innerText(), /在 演示网格员 手中/);
  // A slot that is no slot: said beside the field, nothing recorded, the photo not kept.
  const photos = await gw.locator('#photos img').count();
  const stored = gw.locator('#record-stored');
  await stored.locator(':scope > summary').click();
  await stored.getByLabel('钥匙柜格位').fill('甲三');
  await stored.locator('input[type=file]').setInputFiles(fixture);
  await stored.getByRole('button', { name: /^保存：/ }).click();
  assert.match(await gw.locator('#record-stored .field-error').innerText(), /钥匙柜格位 .* 无效/);
  assert.equal(await gw.locator('#record-stored').getAttribute('open'), '', 'the form stays open');
  assert.equal(await gw.locator('ol.chain > li').count(), 1, 'nothing recorded');
  assert.equal(await gw.locator('#photos img').count(), photos, 'no photo left behind');
  await gw.goto(entrustment);
  receipts.push(await handOver(gw, 'stored', (f) => f.getByLabel('钥匙柜格位').fill('a3')));
  assert.match(await gw.locator('.keynow').innerText(), /在钥匙柜 A-03 格/);
  receipts.push(await handOver(gw, 'taken_from_cabinet'));
  receipts.push(await handOver(gw, 'lent_to_contractor', async (f) => {
    await f.getByLabel('施工人员姓名').fill('张师傅');
    await f.getByLabel('施工单位').fill('晋阳门窗安装公司');
    await f.getByLabel('施工人员手机号').fill('13800001111');
    assert.ok(await f.getByRole('radio', { name: '施工人员确认' }).isChecked());
  }));
  assert.match(await gw.locator('.keynow').innerText(), /借给施工人员 张师傅（晋阳门窗安装公司）[\s\S]*约定/);
  assert.match(await gw.locator('ol.chain').innerText(), /138\*\*\*\*1111/, 'the contractor\'s phone masked');
  await snap(gw, 'entrustment-lent');

  // While it is out: on the grid worker's today page and in the community's key cabinet.
  await gw.goto(`${base}/`);
  assert.match(await gw.getByRole('region', { name: '钥匙托管' }).innerText(), /更换节能窗[\s\S]*在施工人员手中/);
  weights.key_cabinet = await weigh(() => gw.getByRole('region', { name: '钥匙托管' }).getByRole('link', { name: '钥匙柜' }).click());
  await gw.waitForURL(`${base}/key-cabinet`);
  assert.match(await gw.locator('main').innerText(), new RegExp(`托管中的钥匙共 1 把[\\s\\S]*${address}[\\s\\S]*在施工人员手中`));
  await snap(gw, 'key-cabinet');

  // Clutter in front of the windows: a work order on the household, and colleagues asked to help.
  await gw.goto(entrustment);
  await gw.locator('#ask-help').click();
  await gw.waitForURL(/\/work-orders\/new\?household_id=\d+$/);
  await gw.locator('select[name=category_id]').selectOption({ label: '环境卫生' });
  await gw.locator('input[name=title]').fill('窗前堆物影响节能窗安装');
  await gw.locator('textarea[name=description]').fill('阳台窗前堆放杂物，施工人员无法安装，需要清理');
  await gw.getByRole('button', { name: '上报', exact: true }).click();
  await gw.waitForURL(/\/work-orders\/\d+$/);
  await gw.getByText('请同事协助').click();
  await gw.getByRole('checkbox', { name: /演示社区工作人员/ }).check();
  await gw.getByLabel('需要协助的事项').fill('请帮忙一起清理窗前杂物，施工人员在等');
  await gw.getByRole('button', { name: '发送协助请求' }).click();
  await gw.waitForURL(/\/work-orders\/\d+$/);
  assert.match(await gw.locator('ul.assists').innerText(), /演示社区工作人员[\s\S]*待接受/);
  await gw.goto(entrustment);
  assert.match(await gw.locator('ul.orders').innerText(), /窗前堆物影响节能窗安装/, 'the household\'s orders are on the entrustment');

  // A photo of the finished windows.
  await gw.locator('#photos input[type=file]').setInputFiles(fixture);
  await gw.locator('#photos').getByRole('button', { name: '上传照片' }).click();
  await gw.waitForURL(/\/entrustments\/\d+(#photos)?$/);
  const thumb = gw.locator('#photos img').first();
  await thumb.waitFor();
  assert.ok(await thumb.evaluate((img) => img.complete && img.naturalWidth > 0), 'thumbnail decoded');

  // The key back from the contractor, then home.
  receipts.push(await handOver(gw, 'returned_to_custody'));
  // Back home, with a photo of the key handed over: its thumbnail on the event.
  weights.entrustment_after_hand_over = await weigh(() => handOver(gw, 'returned_to_resident', async (f) => {
    assert.ok(await f.getByRole('radio', { name: '居民确认' }).isChecked());
    await f.locator('input[type=file]').setInputFiles(fixture);
  }).then((c) => receipts.push(c)));
  assert.equal(await gw.locator('ol.chain > li').nth(5).locator('img.thumb').count(), 1, 'the hand-over\'s photo');
  assert.match(await gw.locator('.keynow').innerText(), /钥匙已归还居民/);
  const chain = await gw.locator('ol.chain > li').allInnerTexts();
  assert.equal(chain.length, 6);
  chain.forEach((li, i) => assert.ok(li.includes(receipts[i]), `event ${i + 1} shows its receipt code`));
  assert.match(chain.join('\n'), /从居民处接收钥匙[\s\S]*存入钥匙柜[\s\S]*格位 A-03[\s\S]*从钥匙柜取出[\s\S]*借给施工人员[\s\S]*收回钥匙[\s\S]*归还居民/);
  await snap(gw, 'entrustment-chain');

  // The receipt of the lend, printed.
  await gw.locator('ol.chain > li').nth(3).getByRole('link', { name: '打印回执' }).click();
  await gw.waitForURL(/\/entrustments\/\d+\/receipts\/4$/);
  assert.equal((await gw.locator('#receipt-code').innerText()).trim(), receipts[3]);
  assert.match(await gw.locator('.receipt').innerText(), new RegExp(`钥匙交接回执[\\s\\S]*${address}[\\s\\S]*更换节能窗[\\s\\S]*借给施工人员[\\s\\S]*张师傅[\\s\\S]*施工人员确认`));
  await snap(gw, 'key-receipt');
  await gw.emulateMedia({ media: 'print' });
  assert.equal(await gw.locator('header.top').isVisible(), false, 'no navigation on paper');
  await gw.screenshot({ path: join(shots, 'key-receipt-print.png'), fullPage: true });
  await gw.pdf({ path: join(shots, 'key-receipt-a5.pdf'), format: 'A5', printBackground: false });
  await gw.emulateMedia({ media: 'screen' });

  // The resident's page: the whole chain, a receipt checked, the photo, who looked, and done.
  await rp.reload();
  const view = await rp.locator('main').innerText();
  for (const r of receipts) assert.ok(view.includes(r), `receipt ${r} on the resident's page`);
  assert.match(view, /钥匙已归还居民/);
  assert.match(view, /张师傅[\s\S]*138\*\*\*\*1111/);
  await rp.getByLabel('核对回执上的核验码').fill(receipts[3].toLowerCase());
  await rp.getByRole('button', { name: '核对' }).click();
  assert.match(await rp.locator('#receipt-check').innerText(), /核验码正确：这是您记录中的第 4 条，借给施工人员/);
  assert.equal(await rp.locator('ol.chain > li').nth(5).locator('img.thumb').count(), 1, 'the hand-over\'s photo');
  assert.equal(await rp.getByRole('region', { name: '照片' }).locator('img').count(), 2);
  const photo = rp.getByRole('region', { name: '照片' }).locator('img').first();
  await photo.waitFor();
  assert.ok(await photo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the photo shows');
  const access = await rp.getByRole('region', { name: '谁查看或处理过我家的信息' }).innerText();
  assert.match(access, /演示网格员（网格员）查看了您家的登记信息/, 'the grid worker\'s read of the household');
  assert.match(access, /演示网格员（网格员）处理了您的委托或钥匙交接/);
  await snap(rp, 'resident-view');
  await rp.getByRole('button', { name: '钥匙已收回，确认完成' }).click();
  await rp.waitForURL(/\?done=complete$/);
  assert.match(await rp.locator('[role=status]').innerText(), /您已确认委托完成/);
  assert.match(await rp.locator('main').innerText(), /已完成/);
  await anon.close();

  // Staff see it completed; the household lists it; the cabinet is empty again.
  await gw.goto(entrustment);
  assert.match(await gw.locator('h1').innerText(), /已完成/);
  await gw.goto(household);
  assert.match(await gw.locator('ul.entrustments').innerText(), /更换节能窗[\s\S]*已完成/);
  await gw.goto(`${base}/key-cabinet`);
  assert.match(await gw.locator('main').innerText(), /现在没有托管中的钥匙/);

  writeFileSync(join(shots, '..', 'page-weights-entrustments.json'), JSON.stringify(weights, null, 2));
  console.log('entrustment page weights (bytes):', weights);
  assert.ok(weights.resident_first_view <= 100 * 1024, `resident first view ${weights.resident_first_view} B`);
  for (const name of ['key_cabinet', 'entrustment_after_hand_over']) {
    assert.ok(weights[name] <= 30 * 1024, `${name}: ${weights[name]} B`);
  }
  await gw.close();
});
