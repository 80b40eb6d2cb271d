// Checks of webapp/'s plain scripts that need no browser: the highlighter's tokens and the translation tables,
// plus the static rules the route's Content-Security-Policy imposes on the files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { WEBAPP_DIR } from './support.mjs';

function loadScript(file) {
  const window = {};
  vm.runInNewContext(fs.readFileSync(path.join(WEBAPP_DIR, file), 'utf8'), { window });
  return window;
}

const { QuizHighlight } = loadScript('highlight.js');
const { QuizI18n } = loadScript('i18n.js');

// (Arrays from the script's own realm are copied into this one, so that deepEqual compares values only.)
const kinds = (code, lang) => Array.from(QuizHighlight.tokenize(code, lang).filter(([kind]) => kind),
  ([k, text]) => k + ':' + text);

describe('the highlighter', () => {
  it('marks keywords, strings, comments, numbers and calls in Python', () => {
    assert.deepEqual(kinds("def f(x):\n    return len('quiz') + 1.5  # done\n", 'python'),
      ['kw:def', 'fn:f', 'kw:return', 'fn:len', "str:'quiz'", 'num:1.5', 'com:# done']);
  });

  it('knows the common languages and falls back to a generic rule set', () => {
    assert.deepEqual(kinds('SELECT name FROM users -- all\n', 'sql'), ['kw:SELECT', 'kw:FROM', 'com:-- all']);
    assert.deepEqual(kinds('s := []int{1, 2}\nfmt.Println(len(s)) // 2', 'go'),
      ['num:1', 'num:2', 'fn:Println', 'fn:len', 'com:// 2']);
    assert.deepEqual(kinds('let v: Vec<i32> = vec![]; /* x */', 'rust'), ['kw:let', 'com:/* x */']);
    assert.deepEqual(kinds('const s = `a${b}`; // t', 'js'), ['kw:const', 'str:`a${b}`', 'com:// t']);
    assert.deepEqual(kinds('public static void main(String[] a) {}', 'java'), ['kw:public', 'kw:static', 'kw:void', 'fn:main']);
    assert.deepEqual(kinds('int x = 0x1F; // c', 'c++'), ['kw:int', 'num:0x1F', 'com:// c']);
    assert.equal(QuizHighlight.languageOf('brainfuck'), 'generic');
    assert.deepEqual(kinds('echo "hi" # note', 'sh'), ['kw:echo', 'str:"hi"', 'com:# note']);
  });

  it('keeps every character, markup included, as text', () => {
    const code = '<script>alert("x")</script> & \'unterminated\n"q" """doc"""';
    const text = QuizHighlight.tokenize(code, 'python').map(([, t]) => t).join('');
    assert.equal(text, code);
  });
});

describe('the translations', () => {
  it('have the same keys in English and Russian, none empty', () => {
    // Plural forms differ by language (Russian has one/few/many): compare the phrases, not the forms.
    const phrases = (lang) => Array.from(new Set(Object.keys(QuizI18n.STRINGS[lang])
      .map((key) => key.replace(/\.(zero|one|two|few|many|other)$/, '')))).sort();
    assert.deepEqual(phrases('ru'), phrases('en'));
    for (const lang of ['en', 'ru']) {
      for (const key of Object.keys(QuizI18n.STRINGS[lang]).filter((k) => /\.one$/.test(k))) {
        assert.ok(QuizI18n.STRINGS[lang][key.replace(/one$/, 'other')], `${lang}.${key} has no "other" form`);
      }
    }
    for (const lang of ['en', 'ru']) {
      for (const [key, value] of Object.entries(QuizI18n.STRINGS[lang])) assert.ok(value.trim(), `${lang}.${key} is empty`);
    }
  });

  it('fill placeholders', () => {
    assert.equal(QuizI18n.t('ru', 'feed.position', { n: 2, total: 5 }), 'Задача 2 из 5');
    assert.equal(QuizI18n.t('xx', 'retry'), 'Retry');
    assert.equal(QuizI18n.plural('en', 'topics.tasks', 1), '1 task');
    assert.equal(QuizI18n.plural('en', 'topics.tasks', 3), '3 tasks');
    assert.equal(QuizI18n.plural('ru', 'topics.tasks', 1), '1 задача');
    assert.equal(QuizI18n.plural('ru', 'topics.tasks', 3), '3 задачи');
    assert.equal(QuizI18n.plural('ru', 'topics.tasks', 5), '5 задач');
  });
});

describe('the files obey the Content-Security-Policy', () => {
  const files = fs.readdirSync(WEBAPP_DIR).filter((f) => /\.(html|js|css)$/.test(f));

  it('index.html loads Telegram\'s script before app.js, with relative asset URLs and no inline code', () => {
    const html = fs.readFileSync(path.join(WEBAPP_DIR, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.every(([, , body]) => body.trim() === ''), 'an inline <script>');
    const sources = scripts.map(([, attrs]) => /src="([^"]+)"/.exec(attrs)[1]);
    assert.equal(sources[0], 'https://telegram.org/js/telegram-web-app.js');
    assert.ok(sources.indexOf('app.js') > 0);
    assert.ok(sources.slice(1).every((src) => !/^(\/|https?:)/.test(src)), 'asset URLs must be relative');
    assert.match(html, /<link rel="stylesheet" href="app.css">/);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'an inline event handler');
    assert.doesNotMatch(html, /\sstyle=/i, 'a style attribute');
    assert.doesNotMatch(html, /<style/i, 'an inline <style>');
  });

  it('no script uses eval, innerHTML or style attributes, and only Telegram\'s script is external', () => {
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const js = fs.readFileSync(path.join(WEBAPP_DIR, file), 'utf8');
      assert.doesNotMatch(js, /\beval\(|new Function\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
        `${file} builds code or HTML from strings`);
      assert.doesNotMatch(js, /setAttribute\(\s*['"]style['"]/, `${file} writes a style attribute`);
      assert.doesNotMatch(js, /localStorage|document\.cookie/, `${file} uses localStorage or cookies`);
    }
    for (const file of files) {
      const text = fs.readFileSync(path.join(WEBAPP_DIR, file), 'utf8');
      const urls = [...text.matchAll(/https?:\/\/[^\s'"`)<>]+/g)].map((m) => m[0])
        .filter((u) => !u.startsWith('https://telegram.org/js/telegram-web-app.js') && !u.startsWith('https://t.me/'));
      assert.deepEqual(urls, [], `${file} refers to external resources`);
    }
  });
});
