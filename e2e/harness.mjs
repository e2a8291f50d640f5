// Starts a Wangge server on a free loopback port over a small demo city, and a headless Debian
// Chromium driven by playwright-core. Screenshots go to target/screenshots/ for reviewers.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
export const shots = join(root, 'target', 'screenshots');
const bin = process.env.WANGGE_BIN ?? join(root, 'target', 'debug', 'wangge');

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'wangge-e2e-'));
  execFileSync(bin, ['demo', '--residents', '3000', '--seed', '7', '--data-dir', dir], { stdio: 'ignore' });
  const accounts = {};
  for (const line of readFileSync(join(dir, 'demo-credentials.txt'), 'utf8').split('\n')) {
    const [user, role, area, password] = line.trim().split(/\s+/);
    if (user && !user.startsWith('#')) accounts[user] = { role, area, password };
  }
  const port = await freePort();
  const proc = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dir], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    accounts,
    stop() {
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBrowser() {
  mkdirSync(shots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

export async function signIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel(/用户名|User name/).fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: /登录|Sign in/ }).click();
  await page.waitForURL(`${base}/`);
}

/// A phone-sized page with the demo grid worker signed in, on the first household of their first
/// grid (the start of every home-visit path).
export async function gridWorkerAtHousehold(browser, server) {
  const { base, accounts } = server;
  const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  await signIn(page, base, 'demo-grid', accounts['demo-grid'].password);
  await page.locator('section.card ul.list a').first().click();
  await page.locator('.bgrid td a[href^="/households/"]').first().click();
  return page;
}

/// A valid GB 11643 ID number from its first 17 digits.
export function idNumber(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}
