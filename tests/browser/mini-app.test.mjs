// The Telegram Mini App (webapp/, served at /app/) in Debian's Chromium against the local cloud: a whole player
// session from a deep link to the leaderboard, the plain-browser page, a 320-pixel screen, an API failure with
// Retry, and the re-sign-in after a 401. The browser reaches only 127.0.0.1; Telegram is a stand-in injected by
// these tests.
//
//   cd tests/browser && npm ci && cd ../.. && node --test tests/browser/
//   (GATEWAY=http://127.0.0.1:3000 by default; SCREENSHOT_DIR=.local/screenshots by default)

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  GATEWAY, REPO, apiCall, appUrl, bodyContrast, cloudIsUp, freshTelegramId, gradientPng, importSampleBank,
  launchBrowser, newContext, screenshot, screenshotBothThemes, signInAs, staleServedFiles, telegramFor, telegramUser,
  unnamedControls
} from './support.mjs';

const WEIGHT = { easy: 10, medium: 25, hard: 50 };
const TIMEOUT = 10_000;

let browser;
let python; // { topicId, subtopicId }

before(async () => {
  assert.ok(await cloudIsUp(), `the local cloud does not answer at ${GATEWAY} (start it with infra/cloud start)`);
  await importSampleBank();
  const topics = await apiCall('GET', '/api/v1/topics?lang=en&search=python');
  const topic = topics.topics.find((tp) => tp.name === 'Python');
  assert.ok(topic, 'the sample bank\'s topic "Python" is missing after the import');
  const subs = await apiCall('GET', `/api/v1/topics/${topic.id}/subtopics?lang=en`);
  const basics = subs.subtopics.find((s) => s.name === 'Basics');
  assert.ok(basics && basics.task_counts.total >= 2, 'the subtopic Python / Basics with two tasks is missing');
  python = { topicId: topic.id, subtopicId: basics.id };
  const stale = await staleServedFiles();
  if (stale.length) {
    console.warn(`# note: the cloud serves an older ${stale.join(', ')} than webapp/ holds; ` +
      'run infra/cloud start (or WEBAPP_FROM=disk) to test the files on disk');
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
});

// Asserts nothing but loopback was requested and the page raised no error.
function assertCleanRun(blocked, consoleErrors) {
  assert.deepEqual(blocked, [], 'the page tried to reach something other than 127.0.0.1');
  const real = consoleErrors.filter((e) => !/Failed to load resource|net::ERR_/.test(e));
  assert.deepEqual(real, [], 'the page logged errors');
}

async function expectNamedControls(page, where) {
  const unnamed = await unnamedControls(page);
  assert.deepEqual(unnamed, [], `buttons or links without an accessible name on ${where}`);
}

async function expectContrast(page, where) {
  const { ratio, color, background } = await bodyContrast(page);
  assert.ok(ratio >= 4.5, `body text contrast on ${where} is ${ratio.toFixed(2)} (${color} on ${background}), under 4.5`);
}

async function statValue(page, cls) {
  const text = await page.locator(`.stat-${cls} .stat-value`).innerText();
  return Number(text.replace(/[^\d]/g, ''));
}

describe('a whole player session in the Mini App', { concurrency: false }, () => {
  const telegramId = freshTelegramId();
  const user = telegramUser(telegramId);
  const name = `${user.first_name} ${user.last_name}`;
  let context;
  let page;
  let blocked;
  let consoleErrors;
  let failed = false;
  const apiBodies = []; // [url, body] of every API response until the first answer is sent
  let answering = false;
  const feedTasks = new Map(); // task id -> the feed item as the page received it
  let statsBefore;

  // Steps depend on each other: after a failure the rest are skipped, so the first failure is the one to read.
  const step = (title, fn) => it(title, async (t) => {
    if (failed) { t.skip('an earlier step failed'); return; }
    try { await fn(t); } catch (err) { failed = true; throw err; }
  });

  before(async () => {
    ({ context, blocked, consoleErrors } = await newContext(browser, {
      telegram: telegramFor(user, { startParam: 'topic_' + python.topicId })
    }));
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('response', async (response) => {
      const url = response.url();
      if (!url.includes('/api/v1/')) return;
      const record = [url, null];
      if (!answering) apiBodies.push(record);
      try { record[1] = await response.text(); } catch { record[1] = ''; }
      if (/\/subtopics\/\d+\/tasks/.test(url)) {
        try { for (const task of JSON.parse(record[1]).tasks) feedTasks.set(task.id, task); } catch { /* ignore */ }
      }
    });
    page.on('request', (request) => {
      if (/\/api\/v1\/tasks\/\d+\/answer$/.test(request.url())) answering = true;
    });
  });

  after(async () => {
    if (context) await context.close();
  });

  step('the deep link start_param=topic_<id> opens that topic, signed in with initData', async () => {
    await page.goto(appUrl());
    await page.locator('#view[data-page="topic"] .page-title').waitFor();
    assert.equal(await page.locator('.page-title').innerText(), 'Python');
    await page.locator(`.subtopic-link[data-subtopic-id="${python.subtopicId}"]`).waitFor();
    const tg = await page.evaluate(() => ({
      ready: window.__telegramTest.calls.ready, expand: window.__telegramTest.calls.expand,
      back: window.Telegram.WebApp.BackButton.isVisible,
      stored: sessionStorage.getItem('quiz.session'), cookies: document.cookie, local: localStorage.length
    }));
    assert.ok(tg.ready >= 1 && tg.expand >= 1, 'ready() and expand() were not called');
    assert.equal(tg.back, true, 'the BackButton is not shown on the topic page');
    assert.match(tg.stored, /"token":"[0-9a-f]{64}"/, 'the session token is not kept in sessionStorage');
    assert.equal(tg.cookies, '', 'a cookie was set');
    assert.equal(tg.local, 0, 'localStorage was used');
    const cookies = await context.cookies();
    assert.deepEqual(cookies.map((c) => c.name), [], 'the browser stored a cookie');
    await expectNamedControls(page, 'the topic page');
    await screenshotBothThemes(page, 'subtopics');
  });

  step('the share button opens Telegram\'s share link to <origin>/app/?startapp=topic_<id>', async () => {
    await page.locator('.share-button').click();
    const links = await page.evaluate(() => window.__telegramTest.calls.links);
    assert.equal(links.length, 1);
    const shared = new URL(links[0]);
    assert.equal(shared.origin + shared.pathname, 'https://t.me/share/url');
    assert.equal(shared.searchParams.get('url'), appUrl('?startapp=topic_' + python.topicId));
  });

  step('the BackButton leads to the topics with cards, counts and search', async () => {
    await page.evaluate(() => window.Telegram.WebApp.BackButton.click());
    await page.locator('#view[data-page="topics"] .topic-card').first().waitFor();
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.BackButton.isVisible), false,
      'the BackButton is still shown on the topics page');
    const card = page.locator(`.topic-card[data-topic-id="${python.topicId}"]`);
    await card.waitFor();
    assert.match(await card.innerText(), /\d+ tasks/);
    assert.match(await card.innerText(), /0 of \d+ answered/);
    await page.locator('#topic-search').fill('zzz-no-such-topic');
    await page.locator('.state-empty').waitFor();
    await page.locator('#topic-search').fill('pyth');
    await card.waitFor();
    await page.locator('#topic-search').fill('');
    await page.locator('.topic-card').nth(0).waitFor();
    await expectNamedControls(page, 'the topics page');
    await expectContrast(page, 'the topics page (light)');
    await screenshotBothThemes(page, 'topics');
  });

  step('my statistics start at zero', async () => {
    await page.locator('[data-nav="stats"]').click();
    await page.locator('#view[data-page="stats"] .stat-rating').waitFor();
    statsBefore = {
      rating: await statValue(page, 'rating'),
      streak: await statValue(page, 'streak'),
      best: await statValue(page, 'best-streak')
    };
    assert.deepEqual(statsBefore, { rating: 0, streak: 0, best: 0 }, 'a fresh player does not start at zero');
  });

  step('the profile saves public fields, a favourite topic and privacy', async () => {
    await page.locator('[data-nav="profile"]').click();
    await page.locator('#view[data-page="profile"] #pf-first_name').waitFor();
    assert.equal(await page.locator('#pf-first_name').inputValue(), user.first_name);
    await page.locator('#pf-bio').fill('I test the Mini App in a real browser.');
    await page.locator('#pf-grade').selectOption('middle');
    await page.locator(`input[name="favourite"][value="${python.topicId}"]`).check();
    await page.locator('#pf-is_public').check();
    const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/me') && r.request().method() === 'PATCH');
    await page.locator('[data-action="save"]').click();
    assert.equal((await saved).status(), 200);
    await page.locator('.form-status', { hasText: 'Saved' }).waitFor();
    await page.locator('#pf-username').fill('x');
    await page.locator('[data-action="save"]').click();
    await page.locator('#pf-username-error').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await page.locator('#pf-username').getAttribute('aria-invalid'), 'true');
    await page.locator('#pf-username').fill(user.username);
    await page.locator('[data-action="save"]').click();
    await page.locator('.form-status', { hasText: 'Saved' }).waitFor();
    await expectNamedControls(page, 'the profile page');
  });

  // The profile as the API has it, read with the page's own session.
  const myProfile = () => page.evaluate(() => fetch('/api/v1/me', { cache: 'no-store', headers: {
    authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('quiz.session')).token } }).then((r) => r.json()));
  const avatarItems = () => page.locator('.avatar-list .avatar-item');
  const avatarItem = (n) => avatarItems().nth(n - 1);
  // The list as the page shows it: [src, current] per avatar, newest first.
  const shownAvatars = () => avatarItems().evaluateAll((items) => items.map((li) =>
    [li.querySelector('img').getAttribute('src'), li.getAttribute('aria-current') === 'true']));
  const asShown = (avatars) => avatars.map((a) => [a.url, a.current]);
  const avatarChange = (method) => page.waitForResponse((r) => r.request().method() === method &&
    /\/api\/v1\/me(\/avatars\/[0-9a-f-]{36})?$/.test(r.url()));
  const uploaded = [];

  step('an avatar is uploaded through the pre-signed URL, processed, listed and current', async () => {
    const photo = path.join(REPO, 'infra', 'sample-photo.jpg');
    const put = page.waitForRequest((r) => r.method() === 'PUT' && !r.url().startsWith(GATEWAY));
    await page.locator('#avatar-file').setInputFiles(photo);
    const storage = new URL((await put).url());
    assert.equal(storage.hostname, '127.0.0.1');
    await page.locator('.avatar-section .form-status', { hasText: 'Your new avatar is ready.' }).waitFor({ timeout: 30_000 });
    const img = page.locator('.avatar-img.is-current');
    await img.waitFor();
    await page.waitForFunction(() => {
      const el = document.querySelector('.avatar-img.is-current');
      return el && el.complete && el.naturalWidth > 0;
    });
    const size = await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]);
    assert.equal(size[0], size[1], 'the processed avatar is not square');
    const me = await myProfile();
    assert.equal(me.avatar_url, await img.getAttribute('src'), 'the new avatar is not the profile\'s avatar_url');
    assert.ok(Array.isArray(me.avatars), 'GET /api/v1/me has no "avatars"');
    assert.deepEqual(await shownAvatars(), asShown(me.avatars));
    assert.deepEqual(asShown(me.avatars), [[me.avatar_url, true]]);
    uploaded.unshift(me.avatars[0]);
    const only = avatarItem(1);
    assert.match(await only.locator('.avatar-badge').innerText(), /Current/);
    assert.equal(await only.locator('[data-action="use-avatar"]').count(), 0, 'the current avatar offers "Use"');
    assert.match(await only.locator('img').getAttribute('alt'), /^Avatar 1 of 1, uploaded /);
  });

  step('a second avatar is listed first and current; "Use" makes the older one current again', async () => {
    await page.locator('#avatar-file').setInputFiles({ name: 'gradient.png', mimeType: 'image/png',
      buffer: gradientPng(256, [255, 140, 0], [120, 40, 200]) });
    await page.locator('.avatar-section .form-status', { hasText: 'Your new avatar is ready.' }).waitFor({ timeout: 30_000 });
    await avatarItems().nth(1).waitFor();
    let me = await myProfile();
    assert.equal(me.avatars.length, 2);
    assert.equal(me.avatars[1].id, uploaded[0].id, 'the older avatar is not listed second');
    assert.deepEqual(asShown(me.avatars), [[me.avatar_url, true], [uploaded[0].url, false]], 'the newest is not current');
    assert.deepEqual(await shownAvatars(), asShown(me.avatars));
    uploaded.unshift(me.avatars[0]);
    assert.equal(await avatarItem(1).getAttribute('aria-current'), 'true');
    assert.equal(await avatarItem(2).getAttribute('aria-current'), null);
    const use = avatarItem(2).getByRole('button', { name: 'Use avatar 2' });
    await use.waitFor();
    assert.equal(await avatarItem(1).getByRole('button', { name: 'Use avatar 1' }).count(), 0);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.avatar-list img'))
      .every((el) => el.complete && el.naturalWidth > 0));
    await expectNamedControls(page, 'the avatar manager');
    await expectContrast(page, 'the profile page (light)');
    await screenshotBothThemes(page, 'profile', { show: '.avatar-section' });

    const patched = avatarChange('PATCH');
    await use.click();
    const answer = await patched;
    assert.equal(answer.status(), 200);
    assert.deepEqual(JSON.parse(answer.request().postData()), { avatar_id: uploaded[1].id });
    await page.waitForFunction(() => document.querySelectorAll('.avatar-list .avatar-item')[1]
      ?.getAttribute('aria-current') === 'true');
    assert.deepEqual(await shownAvatars(), [[uploaded[0].url, false], [uploaded[1].url, true]]);
    assert.match(await avatarItem(2).locator('.avatar-badge').innerText(), /Current/);
    await avatarItem(1).getByRole('button', { name: 'Use avatar 1' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'remove-avatar',
      'the focus did not stay on the used avatar');
    me = await myProfile();
    assert.equal(me.avatar_url, uploaded[1].url, 'GET /api/v1/me does not show the avatar put back in use');
    assert.deepEqual(asShown(me.avatars), [[uploaded[0].url, false], [uploaded[1].url, true]]);
  });

  step('removing the current avatar asks first; Escape keeps it; confirmed, the other one is left and current', async () => {
    const remove = avatarItem(2).getByRole('button', { name: 'Remove avatar 2' });
    await remove.click();
    const confirm = page.locator('.avatar-confirm').getByRole('button', { name: 'Confirm removal' });
    await confirm.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'confirm-remove',
      'the confirmation does not take the focus');
    assert.equal(await remove.getAttribute('aria-expanded'), 'true');
    assert.match(await page.locator('.avatar-confirm').innerText(), /Remove avatar 2\?/);
    await expectNamedControls(page, 'the removal confirmation');
    await page.keyboard.press('Escape');
    await page.locator('.avatar-confirm').waitFor({ state: 'hidden' });
    assert.equal(await avatarItems().count(), 2, 'Escape removed the avatar');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Remove avatar 2');

    await remove.click();
    const deleted = avatarChange('DELETE');
    await confirm.click();
    const answer = await deleted;
    assert.equal(answer.status(), 200);
    assert.ok(answer.url().endsWith('/api/v1/me/avatars/' + uploaded[1].id));
    await page.locator('.avatar-section .form-status', { hasText: 'The avatar was removed.' }).waitFor();
    assert.deepEqual(await shownAvatars(), [[uploaded[0].url, true]]);
    const me = await myProfile();
    assert.equal(me.avatar_url, uploaded[0].url, 'the remaining avatar did not become current');
    assert.deepEqual(asShown(me.avatars), [[uploaded[0].url, true]]);
  });

  step('removing the last avatar through Telegram\'s popup, after a failure and Retry, leaves the initials', async () => {
    const deletes = [];
    const onRequest = (r) => { if (r.method() === 'DELETE') deletes.push(r.url()); };
    page.on('request', onRequest);
    let aborted = 0;
    await page.route(/\/api\/v1\/me\/avatars\//, async (route) => {
      if (aborted === 0) { aborted += 1; await route.abort('connectionfailed'); } else await route.fallback();
    });
    try {
      await page.evaluate(() => window.__telegramTest.confirmAnswers(false));
      const remove = avatarItem(1).getByRole('button', { name: 'Remove avatar 1' });
      await remove.click();
      await page.waitForFunction(() => window.__telegramTest.calls.confirms.length === 1);
      assert.match(await page.evaluate(() => window.__telegramTest.calls.confirms[0]), /Remove avatar 1\?/);
      assert.equal(await page.locator('.avatar-confirm').isVisible(), false, 'the page asked as well as Telegram');
      await page.waitForTimeout(100);
      assert.deepEqual(deletes, [], 'Cancel in Telegram\'s popup removed the avatar');

      await page.evaluate(() => window.__telegramTest.confirmAnswers(true));
      await remove.click();
      const error = page.locator('.avatar-section .avatar-error[role="alert"]');
      await error.filter({ hasText: 'No connection to the server' }).waitFor();
      assert.equal(await avatarItems().count(), 1);
      const deleted = avatarChange('DELETE');
      await error.getByRole('button', { name: 'Retry' }).click();
      assert.equal((await deleted).status(), 200);
      assert.equal(await page.evaluate(() => window.__telegramTest.calls.confirms.length), 2,
        'Retry asked for a confirmation again');
    } finally {
      page.off('request', onRequest);
      await page.unroute(/\/api\/v1\/me\/avatars\//);
      await page.evaluate(() => window.__telegramTest.confirmAnswers(null));
    }
    const fallback = page.locator('.avatar-section .avatar-fallback');
    await fallback.waitFor();
    assert.equal(await avatarItems().count(), 0);
    assert.equal(await page.locator('.avatar-section .avatar-error').innerText(), '');
    assert.equal((await fallback.locator('.avatar').innerText()).trim(), 'BT', 'the fallback shows no initials');
    assert.match(await fallback.innerText(), /No avatar yet/);
    const me = await myProfile();
    assert.equal(me.avatar_url, null);
    assert.deepEqual(me.avatars, []);
    await expectNamedControls(page, 'the profile without avatars');
  });

  step('the feed shows the question with highlighted code, options and "I don\'t know", and no answer key', async () => {
    await page.goto(appUrl('#/topic/' + python.topicId));
    await page.locator(`.subtopic-link[data-subtopic-id="${python.subtopicId}"]`).click();
    await page.locator('#view[data-page="feed"] .task-card').waitFor();
    const card = page.locator('.task-card');
    await card.locator('.code-block .tok-fn, .code-block .tok-kw, .code-block .tok-str').first().waitFor();
    const optionCount = await card.locator('button.option').count();
    assert.ok(optionCount >= 3, 'the options and "I don\'t know" are not buttons');
    await card.locator('.option-dont-know').waitFor();
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.MainButton.isVisible), false);

    // The answer key is in no response the page received before answering.
    assert.ok(apiBodies.length > 0);
    for (const [url, body] of apiBodies) {
      assert.ok(!/correct_index|is_correct|explanation|correct_option/.test(body || ''),
        `the response of ${url} carries an answer key before the first answer: ${String(body).slice(0, 300)}`);
    }
    assert.ok(feedTasks.size >= 2, 'the task feed was not received');
    for (const task of feedTasks.values()) {
      assert.equal(task.answered, false);
      assert.ok(!('correct_index' in task) && !('explanation' in task), `task ${task.id} carries its key`);
    }
    await expectNamedControls(page, 'the feed');
    await expectContrast(page, 'the feed (light)');
    await screenshotBothThemes(page, 'feed-before-answer');
  });

  // The correct option, learnt from the bank file (by question text), else from a throwaway player's answer
  // outcome through the API; never from the page.
  const bank = new Map(JSON.parse(fs.readFileSync(path.join(REPO, 'infra', 'sample-bank.json'), 'utf8')).tasks
    .flatMap((task) => task.translations).filter((tr) => tr.language === 'en')
    .map((tr) => [tr.question.trim(), tr.correct_answer]));
  async function correctIndexOf(taskId) {
    const task = feedTasks.get(taskId);
    const known = task && bank.get(task.question.trim());
    if (known !== undefined && task.options.includes(known)) return task.options.indexOf(known);
    const throwaway = await signInAs(freshTelegramId(), { first_name: 'Throwaway' });
    const outcome = await apiCall('POST', `/api/v1/tasks/${taskId}/answer`,
      { token: throwaway.token, body: { dont_know: true, language: 'en' } });
    return outcome.correct_index;
  }

  let wrongTask;
  let rightTask;

  step('a wrong answer shows the result, the correct option, the explanation and the share bars', async () => {
    const card = page.locator('.task-card');
    wrongTask = feedTasks.get(Number(await card.getAttribute('data-task-id')));
    const correct = await correctIndexOf(wrongTask.id);
    const wrong = correct === 0 ? 1 : 0;
    const answered = page.waitForResponse((r) => /\/tasks\/\d+\/answer$/.test(r.url()));
    await card.locator(`button.option[data-index="${wrong}"]`).click();
    const outcome = await (await answered).json();
    assert.equal(outcome.correct, false);
    await card.locator('.result.is-wrong').waitFor();
    assert.match(await card.locator('.result-title').innerText(), /Not quite/);
    assert.match(await card.locator('.correct-option').innerText(),
      new RegExp('Correct answer: ' + wrongTask.options[correct].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.ok(await card.locator(`button.option[data-index="${correct}"].is-correct`).count() === 1);
    assert.ok(await card.locator(`button.option[data-index="${wrong}"].is-wrong`).count() === 1);
    if (outcome.explanation) await card.locator('.explanation').waitFor();
    const bars = card.locator('.shares .share');
    assert.equal(await bars.count(), wrongTask.options.length + 1, 'one bar per option and "I don\'t know"');
    const widths = await card.locator('.share-fill').evaluateAll((els) => els.map((el) => el.style.width));
    assert.ok(widths.every((w) => /^\d+(\.\d+)?%$/.test(w)), `bar widths: ${widths}`);
    assert.ok(widths.some((w) => w !== '0%'), 'every bar is empty');
    const main = await page.evaluate(() => ({ visible: window.Telegram.WebApp.MainButton.isVisible,
      text: window.Telegram.WebApp.MainButton.text }));
    assert.deepEqual(main, { visible: true, text: 'Next task' }, 'the MainButton does not offer the next task');
    const haptics = await page.evaluate(() => window.__telegramTest.calls.haptics);
    assert.ok(haptics.includes('error'));
    await expectNamedControls(page, 'the answered task');
    await screenshotBothThemes(page, 'feed-after-answer', { show: '.result' });
  });

  step('the MainButton goes to the next task, which the keyboard answers right', async () => {
    await page.evaluate(() => window.Telegram.WebApp.MainButton.click());
    await page.waitForFunction((id) => document.querySelector('.task-card')?.dataset.taskId !== String(id), wrongTask.id);
    const card = page.locator('.task-card');
    rightTask = feedTasks.get(Number(await card.getAttribute('data-task-id')));
    assert.ok(rightTask && !rightTask.answered);
    const correct = await correctIndexOf(rightTask.id);
    // Tab through the page until the right option has the focus, then press Enter.
    let reached = false;
    for (let i = 0; i < 40 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate((index) => {
        const el = document.activeElement;
        return Boolean(el && el.matches('button.option') && el.dataset.index === String(index));
      }, correct);
    }
    assert.ok(reached, 'Tab never reached the right option');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused option has no visible focus ring');
    await page.keyboard.press('Enter');
    await card.locator('.result.is-correct').waitFor();
    assert.match(await card.locator('.result-title').innerText(), /Correct/);
  });

  step('an answered task shows its result when revisited', async () => {
    await page.reload();
    await page.locator('.task-card').waitFor();
    const card = page.locator(`.task-card[data-task-id="${rightTask.id}"]`);
    await card.locator('.result.is-correct').waitFor();
    await page.locator('[data-action="prev"]').click();
    const previous = page.locator(`.task-card[data-task-id="${wrongTask.id}"]`);
    await previous.locator('.result.is-wrong').waitFor();
    await previous.locator('.correct-option').waitFor();
    assert.equal(await previous.locator('button.option:not([disabled])').count(), 0);
    // The shares of first answers come back with the feed: the bars show on revisit too, one per option and
    // "I don't know".
    const bars = previous.locator('.shares .share');
    await bars.first().waitFor();
    assert.equal(await bars.count(), wrongTask.options.length + 1, 'a bar per option on revisit');
  });

  step('the difficulty filter narrows the feed', async () => {
    await page.locator('.chip-filter', { hasText: 'Medium' }).click();
    await page.waitForFunction(() => location.hash.includes('difficulty=medium'));
    await page.locator('#view[data-page="feed"] .task-card').waitFor();
    assert.equal(await page.locator('.chip-filter.is-active').innerText(), 'Medium');
    const expected = [...feedTasks.values()].filter((task) => task.difficulty === 'medium').length;
    assert.match(await page.locator('.task-position').innerText(), new RegExp(`of ${expected}$`));
    assert.equal(await page.locator('.task-card .badge').innerText(), 'Medium');
  });

  step('my statistics show the new rating and streaks', async () => {
    await page.locator('[data-nav="stats"]').click();
    await page.locator('#view[data-page="stats"] .stat-rating').waitFor();
    const now = {
      rating: await statValue(page, 'rating'),
      streak: await statValue(page, 'streak'),
      best: await statValue(page, 'best-streak')
    };
    assert.deepEqual(now, { rating: statsBefore.rating + WEIGHT[rightTask.difficulty], streak: 1, best: 1 },
      'rating and streaks after one wrong and one right answer');
    assert.match(await page.locator('.stat-solved .stat-value').innerText(), /1\s*\/\s*2/);
    await page.locator('.achievement').first().waitFor();
    await page.locator('.progress-card', { hasText: 'Python' }).waitFor();
    await expectNamedControls(page, 'the statistics');
    await screenshotBothThemes(page, 'stats');
  });

  step('the leaderboard, filtered by favourite topic, marks my row; tapping it opens the public profile', async () => {
    await page.locator('[data-nav="leaderboard"]').click();
    await page.locator('#view[data-page="leaderboard"] #lb-topic').waitFor();
    await page.locator('.lb-row').first().waitFor();
    await expectNamedControls(page, 'the leaderboard');
    await screenshotBothThemes(page, 'leaderboard');
    await page.locator('#lb-topic').selectOption(String(python.topicId));
    await page.waitForFunction((id) => location.hash.includes('topic=' + id), python.topicId);
    await page.locator('#lb-online').check();
    await page.waitForFunction(() => location.hash.includes('online=true'));
    const mine = page.locator('.lb-item.is-me .lb-row');
    await mine.waitFor();
    assert.match(await mine.innerText(), new RegExp(name));
    assert.equal(await mine.getAttribute('aria-current'), 'true');
    await expectNamedControls(page, 'the filtered leaderboard');
    await screenshotBothThemes(page, 'leaderboard-filtered');
    await mine.click();
    await page.locator('#view[data-page="user"] .page-title').waitFor();
    assert.equal(await page.locator('.page-title').innerText(), name);
    await page.locator('.stat-rating').waitFor();
    assert.equal(await statValue(page, 'rating'), WEIGHT[rightTask.difficulty]);
    await page.locator('.bio', { hasText: 'real browser' }).waitFor();
    await expectNamedControls(page, 'the public profile');
    await screenshotBothThemes(page, 'public-profile');
  });

  step('switching to Russian translates the UI and sets <html lang="ru">', async () => {
    await page.locator('[data-nav="topics"]').click();
    await page.locator('.topic-card').first().waitFor();
    const topics = page.waitForResponse((r) => r.url().includes('/api/v1/topics?') && r.url().includes('lang=ru'));
    await page.locator('.lang-button[data-lang="ru"]').click();
    await topics;
    await page.waitForFunction(() => document.documentElement.lang === 'ru');
    assert.equal(await page.locator('[data-nav="topics"] .nav-text').innerText(), 'Темы');
    assert.equal(await page.locator('.page-title').innerText(), 'Темы');
    await page.locator('.topic-card').first().waitFor();
    assert.match(await page.locator('.topic-card').first().innerText(), /Задач|Отвечено/);
    await screenshot(page, 'topics-ru-light');
  });

  step('switching to the dark theme changes the background and keeps text readable', async () => {
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await expectContrast(page, 'light theme');
    await page.evaluate(() => window.__telegramTest.setTheme('dark'));
    await page.waitForFunction((was) => getComputedStyle(document.body).backgroundColor !== was, light);
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(dark, 'rgb(33, 33, 33)', 'the dark theme\'s bg_color is not the background');
    await expectContrast(page, 'dark theme');
  });

  step('nothing but 127.0.0.1 was requested, nothing broke the CSP and the page logged no error', async () => {
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], 'Content-Security-Policy violations');
    assertCleanRun(blocked, consoleErrors);
  });
});

describe('outside Telegram and on small screens', () => {
  it('a plain browser without Telegram.WebApp shows "Open this app in Telegram"', async () => {
    for (const scheme of ['light', 'dark']) {
      const { context, blocked, consoleErrors } = await newContext(browser, { telegram: null });
      const page = await context.newPage();
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(appUrl());
      await page.locator('#view[data-page="not-in-telegram"] h1', { hasText: 'Open this app in Telegram' }).waitFor();
      assert.equal(await page.locator('.topic-card').count(), 0);
      await expectContrast(page, `the not-in-Telegram page (${scheme})`);
      assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
      await screenshot(page, 'not-in-telegram-' + scheme);
      const requests = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name)
        .filter((n) => n.includes('/api/')));
      assert.deepEqual(requests, [], 'the page called the API without Telegram');
      await context.close();
      assertCleanRun(blocked, consoleErrors);
    }
  });

  it('the feed does not scroll sideways on a 320-pixel-wide screen', async () => {
    const user = telegramUser(freshTelegramId());
    const { context, blocked, consoleErrors } = await newContext(browser,
      { telegram: telegramFor(user), viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const pages = [
      ['#/topics', '.topic-card'],
      ['#/topic/' + python.topicId, '.subtopic-link'],
      [`#/subtopic/${python.subtopicId}?topic=${python.topicId}`, '.task-card .code-block'],
      ['#/stats', '.stat-rating'],
      ['#/leaderboard', '#lb-topic'],
      ['#/profile', '#pf-first_name']
    ];
    for (const [hash, ready] of pages) {
      await page.goto(appUrl(hash));
      await page.locator(ready).first().waitFor();
      const width = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
      assert.ok(width <= 320, `${hash} is ${width} pixels wide at 320`);
    }
    // Three avatars (as many as are kept), made up in GET /api/v1/me's answer: the manager still fits, in Russian
    // too, and says that another upload replaces the oldest.
    const square = (color) => 'data:image/svg+xml,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" ' +
      `viewBox="0 0 8 8"><rect width="8" height="8" fill="${color}"/></svg>`);
    await page.route(/\/api\/v1\/me$/, async (route) => {
      if (route.request().method() !== 'GET') { await route.fallback(); return; }
      const response = await route.fetch();
      const me = await response.json();
      me.avatars = ['#c0392b', '#27ae60', '#2f6ea5'].map((color, i) => ({
        id: `00000000-0000-4000-8000-00000000000${i}`, url: square(color), current: i === 0,
        created_at: new Date(Date.now() - i * 60_000).toISOString()
      }));
      me.avatar_url = me.avatars[0].url;
      await route.fulfill({ response, json: me });
    });
    await page.reload();
    await page.locator('.avatar-list .avatar-item').nth(2).waitFor();
    assert.match(await page.locator('#avatars-hint').innerText(), /uploading another replaces the oldest/);
    assert.equal(await page.locator('#avatar-file').getAttribute('aria-describedby'), 'avatars-hint');
    assert.equal(await page.locator('#avatar-file').isDisabled(), false, 'a fourth upload is not offered');
    const pageWidth = () => page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
    await page.locator('[data-action="remove-avatar"]').nth(1).click();
    await page.locator('[data-action="confirm-remove"]').waitFor();
    assert.ok(await pageWidth() <= 320, `the avatar manager is ${await pageWidth()} pixels wide at 320`);
    await expectNamedControls(page, 'the avatar manager at 320 pixels');
    await page.locator('.lang-button[data-lang="ru"]').click();
    await page.locator('.avatar-list .avatar-item').nth(2).waitFor();
    await page.locator('[data-action="remove-avatar"]').nth(2).click();
    await page.locator('[data-action="confirm-remove"]', { hasText: 'Подтвердить удаление' }).waitFor();
    assert.ok(await pageWidth() <= 320, `the avatar manager in Russian is ${await pageWidth()} pixels wide at 320`);
    await screenshot(page, 'profile-avatars-320-ru-light');
    await page.unroute(/\/api\/v1\/me$/);
    await page.locator('.lang-button[data-lang="en"]').click();
    // Answered, with the bars, still no sideways scroll.
    await page.goto(appUrl(`#/subtopic/${python.subtopicId}?topic=${python.topicId}`));
    await page.locator('.option-dont-know').click();
    await page.locator('.shares').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 320, `the answered feed is ${width} pixels wide at 320`);
    await context.close();
    assertCleanRun(blocked, consoleErrors);
  });

  it('a failed API request shows an error with a Retry that works', async () => {
    const user = telegramUser(freshTelegramId());
    const { context, blocked } = await newContext(browser, { telegram: telegramFor(user) });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    let aborted = 0;
    await page.route(/\/api\/v1\/topics\?/, async (route) => {
      if (aborted === 0) {
        aborted += 1;
        await route.abort('connectionfailed');
      } else {
        await route.fallback();
      }
    });
    await page.goto(appUrl());
    const error = page.locator('.state-error');
    await error.waitFor();
    assert.match(await error.innerText(), /No connection to the server/);
    await screenshot(page, 'error-light');
    await error.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.topic-card').first().waitFor();
    assert.equal(aborted, 1);
    await context.close();
    assert.deepEqual(blocked, []);
  });

  it('an expired session token is replaced by signing in again once', async () => {
    const user = telegramUser(freshTelegramId());
    const { context, blocked } = await newContext(browser, { telegram: telegramFor(user) });
    await context.addInitScript((id) => {
      sessionStorage.setItem('quiz.session', JSON.stringify({ token: '0'.repeat(64), telegram_id: String(id) }));
    }, user.id);
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const signIns = [];
    page.on('request', (r) => { if (r.url().endsWith('/auth/telegram/mini-app')) signIns.push(r.url()); });
    await page.goto(appUrl('#/stats'));
    await page.locator('.stat-rating').waitFor();
    assert.equal(signIns.length, 1, 'the app did not sign in again exactly once');
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('quiz.session')).token);
    assert.notEqual(stored, '0'.repeat(64));
    await context.close();
    assert.deepEqual(blocked, []);
  });

  it('someone else\'s private profile shows only the name and avatar', async () => {
    const other = await signInAs(freshTelegramId(), { first_name: 'Private', last_name: 'Person' });
    await apiCall('PATCH', '/api/v1/me', { token: other.token, body: { is_public: false } });
    const { context, blocked } = await newContext(browser, { telegram: telegramFor(telegramUser(freshTelegramId())) });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(appUrl('#/user/' + other.user.id));
    await page.locator('#view[data-page="user"] .state-empty', { hasText: 'This profile is private.' }).waitFor();
    assert.equal(await page.locator('.page-title').innerText(), 'Private Person');
    assert.equal(await page.locator('.stat').count(), 0);
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.BackButton.isVisible), true);
    await page.evaluate(() => window.Telegram.WebApp.BackButton.click());
    await page.locator('#view[data-page="leaderboard"]').waitFor();
    await context.close();
    assert.deepEqual(blocked, []);
  });

  it('a ?startapp=topic_<id> in the page URL opens that topic too', async () => {
    const user = telegramUser(freshTelegramId(), { language_code: 'ru' });
    const { context, blocked } = await newContext(browser, { telegram: telegramFor(user), scheme: 'dark' });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(appUrl('?startapp=topic_' + python.topicId));
    await page.locator('#view[data-page="topic"] .subtopic-link').first().waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru', 'Telegram\'s language_code ru is not used');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.scheme), 'dark');
    await expectContrast(page, 'the topic page in the dark theme');
    await context.close();
    assert.deepEqual(blocked, []);
  });
});

