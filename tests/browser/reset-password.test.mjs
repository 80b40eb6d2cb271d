// The password-reset page (`GET /reset-password`, the `reset-password-page` function) in Debian's Chromium against
// the local cloud, as a user who forgot their password meets it: ask for a link, open the mailed link (read from
// the local SES outbox), choose a new password, sign in with it. Also: a used link leads to asking for a new one.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GATEWAY, apiCall, cloudIsUp, launchBrowser, newContext, screenshot } from './support.mjs';

const TIMEOUT = 10_000;
const OUTBOX = 'http://127.0.0.1:55000/moto-api/data.json';
let browser;

before(async () => {
  assert.ok(await cloudIsUp(), `the local cloud does not answer at ${GATEWAY} (start it with infra/cloud start)`);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
});

// A POST whose answer status matters (apiCall throws on anything but 2xx).
async function post(route, body) {
  const response = await fetch(GATEWAY + route, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  });
  return response.status;
}

// The reset link mailed to `address`, from the local SES outbox: the mail job sends it a moment after the request.
async function mailedLink(address) {
  for (let i = 0; i < 60; i++) {
    const data = await (await fetch(OUTBOX)).json();
    const messages = Object.values(data.ses?.Message || data.sesv2?.Message || {}).flat();
    for (const message of messages.map((m) => JSON.stringify(m))) {
      const link = message.includes(address) && message.match(/https?:\/\/[^\s"\\]+\/reset-password\?token=[0-9a-f]{64}/);
      if (link) return link[0];
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no reset link reached ${address} within 15 s`);
}

describe('the password-reset page', () => {
  it('sets a new password from the mailed link, and a used link asks for a new one', async () => {
    const address = `reset-${randomBytes(6).toString('hex')}@example.com`;
    assert.equal(await post('/api/v1/auth/register', { email: address, password: 'old garden path 1' }), 202);
    assert.equal(await post('/api/v1/auth/password-reset', { email: address }), 202);
    const link = await mailedLink(address);
    assert.ok(link.startsWith(GATEWAY + '/reset-password?token='), link);

    const { context, blocked, consoleErrors } = await newContext(browser, { telegram: null });
    const page = await context.newPage();
    const response = await page.goto(link);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /^default-src 'none'; script-src 'sha256-/);
    assert.equal(response.headers()['referrer-policy'], 'no-referrer');
    await page.getByLabel('New password').fill('new river stone 2', { timeout: TIMEOUT });
    await page.getByLabel('The same again').fill('new river stone 3');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('The two passwords differ.').waitFor({ timeout: TIMEOUT });
    await page.getByLabel('The same again').fill('new river stone 2');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your password is changed').waitFor({ timeout: TIMEOUT });
    await screenshot(page, 'reset-password-done');

    const signedIn = await apiCall('POST', '/api/v1/auth/login', { body: { email: address, password: 'new river stone 2' } });
    assert.ok(signedIn.token, 'the new password signs in');
    assert.equal(await post('/api/v1/auth/login', { email: address, password: 'old garden path 1' }), 401);

    // The same link again: used, so the page asks for the address and mails a new one.
    await page.goto(link);
    await page.getByLabel('New password').fill('third bright day 4', { timeout: TIMEOUT });
    await page.getByLabel('The same again').fill('third bright day 4');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('This link is invalid, used or expired').waitFor({ timeout: TIMEOUT });
    await page.getByLabel('E-mail address').fill(address);
    await page.getByRole('button', { name: 'Mail me a link' }).click();
    await page.getByText('If an account uses this address, a link is on its way').waitFor({ timeout: TIMEOUT });
    await screenshot(page, 'reset-password-ask');

    assert.deepEqual(blocked, [], 'the page tried to reach something other than 127.0.0.1');
    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), [], 'the page logged errors (a CSP violation among them)');
    await context.close();
  });
});
