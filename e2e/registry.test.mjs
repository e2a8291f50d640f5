// The registry's main path in a real browser: sign in, walk to a building and a household,
// add a person (first with a bad ID number), find them by pinyin initials, switch language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, startBrowser, signIn, idNumber, shots } from './harness.mjs';

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

async function snap(page, name) {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
}

test('a grid worker records a new household member and finds them again', async () => {
  const { base, accounts } = server;
  const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  await page.goto(`${base}/login`);
  await snap(page, 'login');
  await signIn(page, base, 'demo-grid', accounts['demo-grid'].password);
  assert.match(await page.locator('h1').innerText(), /我的网格/);
  await snap(page, 'home');

  // A building from "my grid", then its units × floors view.
  await page.locator('section.card ul.list a').first().click();
  assert.match(await page.locator('h1').innerText(), /号楼/);
  await page.locator('.bgrid table').waitFor();
  await snap(page, 'building');

  // An occupied dwelling's household.
  await page.locator('.bgrid td a[href^="/households/"]').first().click();
  assert.match(await page.locator('h1').innerText(), /户/);
  await snap(page, 'household');
  const householdUrl = page.url();

  // Add a member with a wrong check character: the error stands next to the field.
  await page.getByRole('link', { name: '新增成员' }).click();
  const bad = idNumber('14010919880512004').slice(0, 17) + (idNumber('14010919880512004').endsWith('0') ? '1' : '0');
  await page.getByLabel('姓名').fill('欧阳小雪');
  await page.getByLabel('身份证号').fill(bad);
  await page.getByLabel('与户主关系').selectOption('30');
  await page.getByRole('button', { name: '保存' }).click();
  const error = page.locator('#e-id');
  await error.waitFor();
  assert.match(await error.innerText(), /校验位/);
  assert.equal(await page.getByLabel('身份证号').getAttribute('aria-invalid'), 'true');
  await snap(page, 'person-form-error');

  // Fix it: saved, and the household lists the new member.
  await page.getByLabel('身份证号').fill(idNumber('14010919880512004'));
  await page.getByRole('button', { name: '保存' }).click();
  await page.waitForURL(householdUrl);
  assert.match(await page.locator('main').innerText(), /欧阳小雪/);

  // Search by pinyin initials from the box on every page.
  await page.getByRole('searchbox').fill('oyxx');
  await page.getByRole('button', { name: '搜索' }).click();
  await page.locator('h1', { hasText: '搜索结果' }).waitFor();
  const hit = page.locator('main ul.list a', { hasText: '欧阳小雪' });
  assert.equal(await hit.count(), 1);
  assert.doesNotMatch(await page.locator('main').innerText(), /\d{17}[\dX]/, 'no full ID number on screen');
  await snap(page, 'search');
  await hit.click();
  assert.match(await page.locator('h1').innerText(), /欧阳小雪/);
  await snap(page, 'person');

  // Switch to English: the whole screen changes language.
  await page.getByRole('link', { name: 'English' }).click();
  await page.locator('html[lang="en"]').waitFor();
  // Interface texts (not names of people and places, which are data) are all English now.
  const chrome = await page.locator('dt, h2, button, label, summary, header nav a, .notice').allInnerTexts();
  assert.ok(chrome.length > 5);
  for (const text of chrome) {
    if (text.trim() === '中文') continue;
    assert.doesNotMatch(text, /[\u4e00-\u9fff]/, `Chinese left in an English interface text: ${text}`);
  }
  await snap(page, 'person-en');
  await page.close();
});

// P8: a page on a cheap phone. Bytes on the wire (compressed bodies plus headers) for the first
// view with an empty cache, and for later views once the stylesheet and script are cached.
test('pages stay within the phone budget (P8)', async () => {
  const { base, accounts } = server;
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  const page = await context.newPage();
  let bytes = 0;
  page.on('requestfinished', async (req) => {
    const s = await req.sizes();
    bytes += s.responseBodySize + s.responseHeadersSize;
  });
  const measure = async (go) => {
    bytes = 0;
    await go();
    await page.waitForLoadState('networkidle');
    return bytes;
  };
  const weights = {};
  weights.login_first_view = await measure(() => page.goto(`${base}/login`));
  weights.home_after_sign_in = await measure(() => signIn(page, base, 'demo-grid', accounts['demo-grid'].password));
  weights.building = await measure(() => page.locator('section.card ul.list a').first().click());
  weights.household = await measure(() => page.locator('.bgrid td a[href^="/households/"]').first().click());
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(shots, '..', 'page-weights.json'), JSON.stringify(weights, null, 2));
  console.log('page weights (bytes):', weights);
  assert.ok(weights.login_first_view <= 100 * 1024, `first view ${weights.login_first_view} B`);
  for (const [name, b] of Object.entries(weights)) {
    if (name !== 'login_first_view') assert.ok(b <= 30 * 1024, `${name}: ${b} B`);
  }
  await context.close();
});
