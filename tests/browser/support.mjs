// What the browser tests share: the local cloud's address, Telegram's initData signing (as the server checks it),
// the Telegram stand-in injected into the page, Debian's Chromium with a strict loopback-only network, and small
// helpers over the HTTP API for setting data up.
//
// Nothing here is part of the app: webapp/ never fakes Telegram; only these tests inject `window.Telegram.WebApp`.

import { createHmac, randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');
export const GATEWAY = (process.env.GATEWAY || 'http://127.0.0.1:3000').replace(/\/+$/, '');
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(REPO, '.local', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const WEBAPP_DIR = path.join(REPO, 'webapp');

function localEnv(name) {
  if (process.env[name]) return process.env[name];
  const text = fs.readFileSync(path.join(REPO, 'infra', 'local.env'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith(name + '='));
  if (!line) throw new Error(`${name} is not set in infra/local.env`);
  return line.slice(name.length + 1).trim().replace(/^["']|["']$/g, '');
}

export const BOT_TOKEN = localEnv('TELEGRAM_BOT_TOKEN');
export const ADMIN_TELEGRAM_ID = Number(localEnv('ADMIN_TELEGRAM_IDS').split(',')[0]);

// A Telegram id nobody else uses, so the player's statistics start at zero in a shared database.
export function freshTelegramId() {
  return 700000000 + randomInt(0, 99999999);
}

export function telegramUser(id, overrides = {}) {
  return Object.assign({
    id,
    first_name: 'Browser',
    last_name: 'Tester ' + String(id).slice(-5),
    username: 'browser_' + id,
    language_code: 'en'
  }, overrides);
}

// Telegram's Mini App signature: data-check-string = the fields but `hash`, sorted by key, `key=value` joined by
// "\n"; secret = HMAC_SHA256(key "WebAppData", bot token); hash = hex(HMAC_SHA256(secret, data-check-string)).
export function signInitData(user, { startParam, authDate, botToken = BOT_TOKEN } = {}) {
  const fields = {
    auth_date: String(authDate ?? Math.floor(Date.now() / 1000)),
    query_id: 'AAH' + randomBytes(8).toString('hex'),
    user: JSON.stringify(user)
  };
  if (startParam) fields.start_param = startParam;
  const checkString = Object.keys(fields).sort().map((key) => `${key}=${fields[key]}`).join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(botToken).digest();
  const hash = createHmac('sha256', secret).update(checkString).digest('hex');
  return Object.entries({ ...fields, hash })
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
}

// --- the HTTP API, from Node -------------------------------------------------------------------------------------

export async function apiCall(method, route, { token, body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(GATEWAY + route, {
    method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body))
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 400)}`);
  }
  return data;
}

export async function signInAs(telegramId, userOverrides) {
  const signedIn = await apiCall('POST', '/api/v1/auth/telegram/mini-app',
    { body: { init_data: signInitData(telegramUser(telegramId, userOverrides)) } });
  return signedIn;
}

export async function cloudIsUp() {
  try {
    const response = await fetch(GATEWAY + '/api/v1/health');
    return response.status === 200 || response.status === 503;
  } catch {
    return false;
  }
}

// Imports infra/sample-bank.json as the development admin (importing again creates nothing new).
export async function importSampleBank() {
  const admin = await signInAs(ADMIN_TELEGRAM_ID, { first_name: 'Admin' });
  const bank = fs.readFileSync(path.join(REPO, 'infra', 'sample-bank.json'), 'utf8');
  await apiCall('POST', '/api/v1/admin/tasks/import', { token: admin.token, body: bank });
}

// --- the browser -------------------------------------------------------------------------------------------------

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Light and dark themes as Telegram's clients send them.
export const THEMES = {
  light: {
    bg_color: '#ffffff', text_color: '#000000', hint_color: '#707579', link_color: '#3390ec',
    button_color: '#3390ec', button_text_color: '#ffffff', secondary_bg_color: '#f4f4f5'
  },
  dark: {
    bg_color: '#212121', text_color: '#ffffff', hint_color: '#aaaaaa', link_color: '#8774e1',
    button_color: '#8774e1', button_text_color: '#ffffff', secondary_bg_color: '#181818'
  }
};

// The stand-in for telegram-web-app.js, run in the page before any of its scripts. `config` is null for a plain
// browser (no window.Telegram at all).
function telegramStandIn(config) {
  // Every Content-Security-Policy violation, for the tests to assert there is none.
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline'));
  });
  if (!config) return;
  const handlers = {};
  const fire = (event, payload) => (handlers[event] || []).slice().forEach((handler) => handler(payload));
  const button = () => ({
    text: '', isVisible: false, isActive: true, handlers: [],
    setText(text) { this.text = String(text); return this; },
    show() { this.isVisible = true; return this; },
    hide() { this.isVisible = false; return this; },
    onClick(handler) { this.handlers.push(handler); return this; },
    offClick(handler) { this.handlers = this.handlers.filter((h) => h !== handler); return this; },
    enable() { this.isActive = true; return this; },
    disable() { this.isActive = false; return this; },
    click() { this.handlers.slice().forEach((handler) => handler()); }
  });
  const calls = { ready: 0, expand: 0, links: [], haptics: [], confirms: [] };
  const WebApp = {
    initData: config.initData,
    initDataUnsafe: config.initDataUnsafe,
    version: '8.0',
    platform: 'tdesktop',
    colorScheme: config.scheme,
    themeParams: Object.assign({}, config.themes[config.scheme]),
    isExpanded: false,
    viewportHeight: window.innerHeight,
    viewportStableHeight: window.innerHeight,
    safeAreaInset: { top: 0, bottom: 0, left: 0, right: 0 },
    contentSafeAreaInset: { top: 0, bottom: 0, left: 0, right: 0 },
    ready() { calls.ready += 1; },
    expand() { calls.expand += 1; this.isExpanded = true; },
    close() {},
    onEvent(event, handler) { (handlers[event] = handlers[event] || []).push(handler); },
    offEvent(event, handler) { handlers[event] = (handlers[event] || []).filter((h) => h !== handler); },
    setHeaderColor() {},
    setBackgroundColor() {},
    openLink() {},
    openTelegramLink(url) { calls.links.push(url); },
    MainButton: button(),
    BackButton: button(),
    HapticFeedback: {
      impactOccurred(style) { calls.haptics.push(style); },
      notificationOccurred(type) { calls.haptics.push(type); },
      selectionChanged() {}
    }
  };
  Object.defineProperty(window, 'Telegram', { value: { WebApp }, configurable: true, writable: true });
  // Test-only controls; the app never looks at them.
  window.__telegramTest = {
    calls,
    setTheme(scheme) {
      WebApp.colorScheme = scheme;
      WebApp.themeParams = Object.assign({}, config.themes[scheme]);
      fire('themeChanged');
    },
    // Telegram's showConfirm popup, answering `answer` (true: OK, false: Cancel); null removes it again, as in a
    // client without popups (the stand-in has none by default).
    confirmAnswers(answer) {
      if (answer === null) {
        delete WebApp.showConfirm;
        return;
      }
      WebApp.showConfirm = (message, callback) => {
        calls.confirms.push(String(message));
        setTimeout(() => { if (callback) callback(answer); }, 0);
      };
    }
  };
}

// Playwright starts Chromium with a fresh temporary --user-data-dir of its own on every launch (and removes it on
// close), so no profile state survives between runs.
export async function launchBrowser() {
  const args = [...CHROMIUM_ARGS];
  // A page the tests fulfil from disk has no address, so Chromium counts it as public and refuses its requests to
  // the loopback storage endpoint (Local Network Access); the cloud-served page is loopback and needs no exception.
  if (!(await appIsServed())) args.push('--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests');
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

// The app comes from the cloud's `mini-app` function, which must serve it: a missing /app/ fails the tests.
// WEBAPP_FROM=disk serves webapp/ from disk instead, with the route's Content-Security-Policy (to try edits
// without a rebuild; never in CI).
let appChecked = false;
export async function appIsServed() {
  if (process.env.WEBAPP_FROM === 'disk') return false;
  if (!appChecked) {
    let status = 'no answer';
    try {
      const response = await fetch(GATEWAY + '/app/');
      status = response.status;
      appChecked = response.ok && /<html/i.test(await response.text());
    } catch (e) {
      status = e.message;
    }
    if (!appChecked) throw new Error(`the local cloud does not serve the Mini App at ${GATEWAY}/app/ (${status})`);
  }
  return true;
}

const DISK_CSP = "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; " +
  "img-src 'self' data: blob: http://127.0.0.1:55000 https://t.me; connect-src 'self' http://127.0.0.1:55000; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org";

// A browser context with the network rule (only 127.0.0.1; telegram-web-app.js answered with an empty script;
// everything else aborted and recorded) and, unless `telegram` is null, the Telegram stand-in.
export async function newContext(browser, { telegram, viewport = { width: 390, height: 844 }, scheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US', serviceWorkers: 'block' });
  const blocked = [];
  const served = await appIsServed();
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.href === 'https://telegram.org/js/telegram-web-app.js') {
      await route.fulfill({ status: 200, contentType: 'application/javascript', body: '' });
      return;
    }
    if (url.protocol === 'http:' && url.hostname === '127.0.0.1') {
      const gateway = new URL(GATEWAY);
      if (!served && url.host === gateway.host && (url.pathname === '/app' || url.pathname.startsWith('/app/'))) {
        let rel = url.pathname.replace(/^\/app\/?/, '') || 'index.html';
        const file = path.join(WEBAPP_DIR, path.normalize(rel));
        if (file.startsWith(WEBAPP_DIR) && fs.existsSync(file) && fs.statSync(file).isFile()) {
          await route.fulfill({ status: 200, body: fs.readFileSync(file),
            headers: { 'content-type': CONTENT_TYPES[path.extname(file)] || 'application/octet-stream',
              'content-security-policy': DISK_CSP, 'cache-control': 'no-store' } });
        } else {
          await route.fulfill({ status: 404, contentType: 'application/json',
            body: '{"error":{"code":"not_found","message":"no such file"}}' });
        }
        return;
      }
      await route.continue();
      return;
    }
    if (url.protocol === 'data:' || url.protocol === 'blob:') {
      await route.continue();
      return;
    }
    blocked.push(url.href);
    await route.abort('blockedbyclient');
  });
  if (telegram) {
    const config = {
      initData: telegram.initData,
      initDataUnsafe: telegram.initDataUnsafe,
      scheme,
      themes: telegram.themes || THEMES
    };
    await context.addInitScript(telegramStandIn, config);
  } else {
    await context.addInitScript(telegramStandIn, null);
  }
  const consoleErrors = [];
  context.on('page', (page) => {
    page.on('pageerror', (err) => consoleErrors.push('pageerror: ' + err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push('console: ' + msg.text());
    });
  });
  return { context, blocked, consoleErrors };
}

// The stand-in's configuration for a player: signed initData and the unsafe copy the client would parse.
export function telegramFor(user, { startParam } = {}) {
  const initDataUnsafe = { user, auth_date: Math.floor(Date.now() / 1000), query_id: 'test' };
  if (startParam) initDataUnsafe.start_param = startParam;
  return { initData: signInitData(user, { startParam }), initDataUnsafe };
}

export function appUrl(suffix = '') {
  return GATEWAY + '/app/' + suffix;
}

// A square PNG of `size` pixels shading from the colour `from` to `to` (top left to bottom right): an image to
// upload that differs from infra/sample-photo.jpg.
export function gradientPng(size, from, to) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB
  const rows = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y += 1) {
    const row = y * (1 + size * 3);
    for (let x = 0; x < size; x += 1) {
      const f = (x + y) / (2 * (size - 1));
      for (let c = 0; c < 3; c += 1) rows[row + 1 + x * 3 + c] = Math.round(from[c] + (to[c] - from[c]) * f);
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

// --- checks run in the page --------------------------------------------------------------------------------------

// Visible buttons and links without an accessible name (text, aria-label, aria-labelledby or title).
export async function unnamedControls(page) {
  return page.evaluate(() => {
    const visible = (el) => {
      const rect = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return rect.width > 0 && rect.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
    };
    const named = (el) => {
      if ((el.getAttribute('aria-label') || '').trim()) return true;
      const by = el.getAttribute('aria-labelledby');
      if (by && by.split(/\s+/).some((id) => (document.getElementById(id)?.textContent || '').trim())) return true;
      if ((el.getAttribute('title') || '').trim()) return true;
      if ((el.textContent || '').trim()) return true;
      return false;
    };
    return Array.from(document.querySelectorAll('button, a[href], [role="button"], input[type="button"], input[type="submit"]'))
      .filter(visible).filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 120));
  });
}

// WCAG contrast ratio of body text against the page background.
export async function bodyContrast(page) {
  return page.evaluate(() => {
    const rgb = (value) => (value.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const style = getComputedStyle(document.body);
    const fg = rgb(style.color);
    let bgValue = style.backgroundColor;
    if (/rgba\(.*,\s*0\)$/.test(bgValue) || bgValue === 'transparent') bgValue = getComputedStyle(document.documentElement).backgroundColor;
    const bg = rgb(bgValue);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return { ratio: (a + 0.05) / (b + 0.05), color: style.color, background: bgValue };
  });
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name + '.png');
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// Screenshots of the current page in the light and the dark theme (switched through the stand-in's
// themeChanged), back to light afterwards.
// `show` is a selector to scroll into view first; else the page is shown from its top.
export async function screenshotBothThemes(page, name, { show } = {}) {
  // No toast, focus ring or caret left over from the last interaction in the pictures.
  await page.locator('#toast.is-visible').waitFor({ state: 'hidden' });
  await page.evaluate((selector) => {
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    const target = selector && document.querySelector(selector);
    if (target) target.scrollIntoView({ block: 'center' });
    else window.scrollTo(0, 0);
  }, show || null);
  await page.evaluate(() => window.__telegramTest.setTheme('light'));
  await screenshot(page, name + '-light');
  await page.evaluate(() => window.__telegramTest.setTheme('dark'));
  await page.waitForFunction(() => document.documentElement.dataset.scheme === 'dark');
  await screenshot(page, name + '-dark');
  await page.evaluate(() => window.__telegramTest.setTheme('light'));
  await page.waitForFunction(() => document.documentElement.dataset.scheme === 'light');
}

// The names of webapp/ files the cloud serves differently from the disk (the cloud compiles them into the route
// function, so an edit shows only after `infra/cloud start`).
export async function staleServedFiles() {
  if (!(await appIsServed())) return [];
  const stale = [];
  for (const file of fs.readdirSync(WEBAPP_DIR).filter((f) => /\.(js|css)$/.test(f))) {
    const response = await fetch(GATEWAY + '/app/' + file);
    const served = Buffer.from(await response.arrayBuffer());
    if (!served.equals(fs.readFileSync(path.join(WEBAPP_DIR, file)))) stale.push(file);
  }
  return stale;
}
