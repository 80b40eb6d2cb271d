// The quiz's Telegram Mini App: plain JavaScript, no build step, talking only to the `/api/v1` routes of its own
// origin. It signs in with `Telegram.WebApp.initData` (the server checks Telegram's signature), keeps the session
// token in memory and sessionStorage (never a cookie, never local storage), and renders one page per hash route:
//
//   #/topics  #/topic/7  #/subtopic/12?topic=7&difficulty=easy&task=31  #/stats  #/leaderboard  #/user/5  #/profile
//
// Every DOM node is built with `h()` and `textContent`: nothing the API returns is ever parsed as HTML, and no
// inline style or handler is written (the route's Content-Security-Policy forbids them).
(function () {
  'use strict';

  const I18N = window.QuizI18n;
  const HL = window.QuizHighlight;
  const tg = window.Telegram && window.Telegram.WebApp ? window.Telegram.WebApp : null;

  const SESSION_KEY = 'quiz.session';
  const LANG_KEY = 'quiz.lang';
  const SIGN_IN_PATH = '/api/v1/auth/telegram/mini-app';
  const DIFFICULTIES = ['easy', 'medium', 'hard'];

  const state = {
    token: null,
    me: null,
    lang: 'en',
    renderId: 0,
    mainButtonHandler: null,
    outcomes: new Map() // task id -> the AnswerOutcome of an answer given in this visit (for the share bars)
  };

  const t = (key, vars) => I18N.t(state.lang, key, vars);

  // --- DOM -----------------------------------------------------------------------------------------------------

  // h('button', {class: 'x', onclick: fn, 'aria-label': '…'}, child, 'text', [more children])
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
        else if (name === 'class') el.className = value;
        else if (name === 'text') el.textContent = value;
        else if (name === 'dataset') Object.assign(el.dataset, value);
        else if (name === 'value' || name === 'checked' || name === 'selected' || name === 'disabled') el[name] = value;
        else el.setAttribute(name, value === true ? '' : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else if (child instanceof Node) el.appendChild(child);
      else el.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  const $ = (sel) => document.querySelector(sel);

  // --- the API -------------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(code, message, status, fields) {
      super(message);
      this.code = code;
      this.status = status;
      this.fields = fields || null;
    }
  }

  async function rawRequest(method, path, body) {
    const headers = { accept: 'application/json' };
    if (state.token) headers.authorization = 'Bearer ' + state.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit', // the session lives in the bearer token only; no cookie is sent or stored
        cache: 'no-store'
      });
    } catch (err) {
      throw new ApiError('network', t('error.network'), 0);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (err) { data = null; }
    }
    if (!response.ok) {
      const error = data && data.error ? data.error : {};
      throw new ApiError(error.code || 'http_' + response.status, error.message || response.statusText || 'HTTP ' +
        response.status, response.status, error.fields);
    }
    return data;
  }

  // A request with the session; a 401 signs in again once and repeats the request.
  async function api(method, path, body) {
    try {
      return await rawRequest(method, path, body);
    } catch (err) {
      if (err.status === 401 && path !== SIGN_IN_PATH && tg && tg.initData) {
        await signIn();
        return rawRequest(method, path, body);
      }
      throw err;
    }
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
    }
    const text = search.toString();
    return text ? '?' + text : '';
  }

  // --- session -------------------------------------------------------------------------------------------------

  function telegramUserId() {
    const user = tg && tg.initDataUnsafe && tg.initDataUnsafe.user;
    return user && user.id ? String(user.id) : '';
  }

  function storeSession() {
    try {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: state.token, telegram_id: telegramUserId() }));
    } catch (err) { /* storage may be disabled; memory is enough */ }
  }

  function restoreSession() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (saved && saved.token && saved.telegram_id === telegramUserId()) state.token = saved.token;
    } catch (err) { /* ignore */ }
  }

  let signingIn = null;
  function signIn() {
    if (!signingIn) {
      state.token = null;
      signingIn = rawRequest('POST', SIGN_IN_PATH, { init_data: tg.initData })
        .then((signedIn) => {
          state.token = signedIn.token;
          state.me = signedIn.user;
          storeSession();
        })
        .finally(() => { signingIn = null; });
    }
    return signingIn;
  }

  async function ensureSession() {
    restoreSession();
    if (state.token) {
      try {
        state.me = await rawRequest('GET', '/api/v1/me');
        return;
      } catch (err) {
        if (err.status !== 401) throw err;
      }
    }
    await signIn();
  }

  function heartbeat() {
    if (!state.token || document.visibilityState === 'hidden') return;
    rawRequest('POST', '/api/v1/me/heartbeat').catch(() => {});
  }

  // --- Telegram: theme, safe areas, buttons ----------------------------------------------------------------------

  const THEME_VARS = {
    bg_color: '--bg',
    text_color: '--text',
    hint_color: '--hint',
    link_color: '--link',
    button_color: '--button',
    button_text_color: '--button-text',
    secondary_bg_color: '--secondary-bg'
  };

  function parseColor(value) {
    const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || '').trim());
    if (!m) return null;
    let hex = m[1];
    if (hex.length === 3) hex = hex.split('').map((c) => c + c).join('');
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }

  function luminance(rgb) {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  function contrast(a, b) {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  }

  const toHex = (rgb) => '#' + rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');

  // Moves `fg` toward `toward` until it reads on `bg` at `ratio` (hint and link colours of some themes are faint).
  function readable(fg, bg, toward, ratio) {
    let color = fg;
    for (let step = 0; step < 10 && contrast(color, bg) < ratio; step += 1) {
      color = color.map((v, i) => v + (toward[i] - v) * 0.25);
    }
    return color;
  }

  function applyTheme() {
    const root = document.documentElement;
    const dark = tg ? tg.colorScheme === 'dark'
      : Boolean(window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
    root.dataset.scheme = dark ? 'dark' : 'light';
    const params = (tg && tg.themeParams) || {};
    for (const [param, cssVar] of Object.entries(THEME_VARS)) {
      if (parseColor(params[param])) root.style.setProperty(cssVar, toHex(parseColor(params[param])));
      else root.style.removeProperty(cssVar);
    }
    // Secondary text and links must stay readable whatever the theme says.
    const style = getComputedStyle(root);
    const bg = parseColor(style.getPropertyValue('--bg'));
    const text = parseColor(style.getPropertyValue('--text'));
    const secondary = parseColor(style.getPropertyValue('--secondary-bg')) || bg;
    if (bg && text) {
      const ground = contrast(text, secondary) < contrast(text, bg) ? secondary : bg;
      for (const cssVar of ['--hint', '--link']) {
        const color = parseColor(style.getPropertyValue(cssVar));
        if (color) root.style.setProperty(cssVar, toHex(readable(readable(color, bg, text, 4.5), ground, text, 4.5)));
      }
      if (contrast(text, bg) < 4.5) root.style.setProperty('--text', toHex(dark ? [245, 245, 245] : [17, 17, 17]));
      const button = parseColor(style.getPropertyValue('--button'));
      const buttonText = parseColor(style.getPropertyValue('--button-text'));
      if (button && buttonText && contrast(button, buttonText) < 3) {
        root.style.setProperty('--button-text', contrast(button, [255, 255, 255]) >= contrast(button, [0, 0, 0])
          ? '#ffffff' : '#000000');
      }
    }
    if (tg) {
      try {
        if (typeof tg.setHeaderColor === 'function') tg.setHeaderColor('bg_color');
        if (typeof tg.setBackgroundColor === 'function') tg.setBackgroundColor('bg_color');
      } catch (err) { /* older clients */ }
    }
  }

  function applySafeAreas() {
    const root = document.documentElement;
    const inset = (tg && tg.safeAreaInset) || {};
    const content = (tg && tg.contentSafeAreaInset) || {};
    for (const side of ['top', 'bottom', 'left', 'right']) {
      const px = (Number(inset[side]) || 0) + (Number(content[side]) || 0);
      root.style.setProperty('--tg-safe-' + side, px + 'px');
    }
  }

  function onTelegram(event, handler) {
    if (tg && typeof tg.onEvent === 'function') safely(() => tg.onEvent(event, handler));
  }

  function haptic(kind) {
    try {
      if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred(kind);
    } catch (err) { /* not supported */ }
  }

  // Older Telegram clients lack some of these objects or throw for methods their version does not support.
  function safely(fn) {
    try { fn(); } catch (err) { /* not supported by this client */ }
  }

  function setMainButton(text, handler) {
    clearMainButton();
    if (!tg || !tg.MainButton) return;
    state.mainButtonHandler = handler;
    safely(() => {
      tg.MainButton.setText(text);
      tg.MainButton.onClick(handler);
      if (typeof tg.MainButton.enable === 'function') tg.MainButton.enable();
      tg.MainButton.show();
    });
  }

  function clearMainButton() {
    if (!tg || !tg.MainButton) return;
    const handler = state.mainButtonHandler;
    state.mainButtonHandler = null;
    safely(() => {
      if (handler) tg.MainButton.offClick(handler);
      tg.MainButton.hide();
    });
  }

  function updateBackButton(route) {
    if (!tg || !tg.BackButton) return;
    safely(() => {
      if (route.name === 'topics') tg.BackButton.hide();
      else tg.BackButton.show();
    });
  }

  // --- routing -------------------------------------------------------------------------------------------------

  function parseRoute() {
    const raw = location.hash.replace(/^#\/?/, '');
    const [path, search] = raw.split('?');
    const parts = path.split('/').filter(Boolean);
    const params = new URLSearchParams(search || '');
    const id = (value) => (/^[1-9]\d{0,17}$/.test(value || '') ? value : null);
    switch (parts[0]) {
      case undefined:
      case 'topics':
        return { name: 'topics', params };
      case 'topic':
        return id(parts[1]) ? { name: 'topic', id: parts[1], params } : { name: 'missing', params };
      case 'subtopic':
        return id(parts[1]) ? { name: 'feed', id: parts[1], params } : { name: 'missing', params };
      case 'stats':
        return { name: 'stats', params };
      case 'leaderboard':
        return { name: 'leaderboard', params };
      case 'user':
        return id(parts[1]) ? { name: 'user', id: parts[1], params } : { name: 'missing', params };
      case 'profile':
        return { name: 'profile', params };
      default:
        return { name: 'missing', params };
    }
  }

  function parentOf(route) {
    switch (route.name) {
      case 'feed': {
        const topic = route.params.get('topic');
        return topic && /^\d+$/.test(topic) ? '#/topic/' + topic : '#/topics';
      }
      case 'user':
        return route.params.get('from') === 'profile' ? '#/profile' : '#/leaderboard';
      default:
        return '#/topics';
    }
  }

  function goBack() {
    location.hash = parentOf(parseRoute());
  }

  // The deep link: Telegram's start_param, or ?startapp= / ?tgWebAppStartParam= in the page URL.
  function startRoute() {
    const url = new URL(location.href);
    const param = (tg && tg.initDataUnsafe && tg.initDataUnsafe.start_param) ||
      url.searchParams.get('startapp') || url.searchParams.get('tgWebAppStartParam') || '';
    const topic = /^topic_([1-9]\d{0,17})$/.exec(param);
    return topic ? '#/topic/' + topic[1] : null;
  }

  function shareLink(topicId) {
    const url = new URL('./', location.href);
    url.search = '?startapp=topic_' + topicId;
    url.hash = '';
    return url.toString();
  }

  // --- shared pieces -------------------------------------------------------------------------------------------

  function loadingView() {
    return h('div', { class: 'state state-loading', role: 'status', 'aria-live': 'polite' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      h('span', { text: t('loading') }));
  }

  function errorView(err, retry) {
    let message;
    if (err && err.code === 'network') message = t('error.network');
    else if (err && err.status === 404) message = t('error.notFound');
    else message = t('error.server', { message: (err && err.message) || String(err) });
    return h('div', { class: 'state state-error', role: 'alert' },
      h('span', { class: 'state-icon', 'aria-hidden': 'true', text: '!' }),
      h('h2', { class: 'state-title', text: t('error.title') }),
      h('p', { text: message }),
      retry ? h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'retry', onclick: retry },
        t('retry')) : null);
  }

  function emptyView(text, icon) {
    return h('div', { class: 'state state-empty' },
      h('span', { class: 'state-icon', 'aria-hidden': 'true', text: icon || '∅' }),
      h('p', { text }));
  }

  function progressBar(value, max, label) {
    const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
    const fill = h('span', { class: 'progress-fill' });
    fill.style.width = pct + '%';
    return h('span', {
      class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(max),
      'aria-valuenow': String(value), 'aria-label': label
    }, fill);
  }

  function initialsOf(name) {
    return Array.from(String(name || '?').trim().split(/\s+/).slice(0, 2), (word) => Array.from(word)[0] || '')
      .join('').toUpperCase() || '?';
  }

  function avatar(url, name, size) {
    const wrap = h('span', { class: 'avatar avatar-' + (size || 'md'), 'aria-hidden': 'true' });
    const initials = initialsOf(name);
    if (url) {
      const img = h('img', { src: url, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' });
      img.addEventListener('error', () => { clear(wrap); wrap.textContent = initials; });
      wrap.appendChild(img);
    } else {
      wrap.textContent = initials;
    }
    return wrap;
  }

  let toastTimer = null;
  function toast(text) {
    const el = $('#toast');
    el.textContent = text;
    el.classList.add('is-visible');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => el.classList.remove('is-visible'), 2500);
  }

  function formatNumber(value) {
    return new Intl.NumberFormat(state.lang).format(value);
  }

  function taskCount(count) {
    return I18N.plural(state.lang, 'topics.tasks', count, { count: formatNumber(count) });
  }

  function formatPercent(value) {
    return value === null || value === undefined ? '—' : new Intl.NumberFormat(state.lang,
      { maximumFractionDigits: 1 }).format(value) + ' %';
  }

  function formatDateTime(iso) {
    try {
      return new Intl.DateTimeFormat(state.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
    } catch (err) { return iso; }
  }

  function formatDate(iso) {
    try {
      return new Intl.DateTimeFormat(state.lang, { year: 'numeric', month: 'long', day: 'numeric' })
        .format(new Date(iso));
    } catch (err) { return iso; }
  }

  // --- Markdown (the small part questions use) -----------------------------------------------------------------

  function inlineMarkdown(text) {
    const nodes = [];
    const re = /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) nodes.push(text.slice(last, m.index));
      if (m[1] !== undefined) nodes.push(h('code', { class: 'inline-code', text: m[1] }));
      else if (m[2] !== undefined) nodes.push(h('strong', { text: m[2] }));
      else nodes.push(h('a', { href: m[4], target: '_blank', rel: 'noopener noreferrer', text: m[3] }));
      last = re.lastIndex;
    }
    if (last < text.length) nodes.push(text.slice(last));
    return nodes;
  }

  function paragraphs(text) {
    return text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean)
      .map((p) => h('p', null, p.split('\n').map((line, i) => [i ? h('br') : null, inlineMarkdown(line)])));
  }

  function markdown(text) {
    const out = [];
    const fence = /```[ \t]*([\w+#.-]*)[^\n]*\n([\s\S]*?)(?:\n[ \t]*```|$(?![\s\S]))/g;
    let last = 0;
    let m;
    while ((m = fence.exec(text)) !== null) {
      out.push(...paragraphs(text.slice(last, m.index)));
      const lang = m[1] || 'text';
      out.push(h('pre', { class: 'code-block', tabindex: '0', 'aria-label': 'Code (' + lang + ')' },
        HL.highlight(m[2].replace(/\s+$/, ''), lang)));
      last = fence.lastIndex;
    }
    out.push(...paragraphs(text.slice(last)));
    return out;
  }

  // --- pages ---------------------------------------------------------------------------------------------------

  function pageHeader(title, extra) {
    return h('div', { class: 'page-head' },
      h('h1', { class: 'page-title', tabindex: '-1', text: title }),
      extra || null);
  }

  // Topics: search, cards with counts and progress.
  async function pageTopics(view, route, ctx) {
    const search = route.params.get('q') || '';
    const input = h('input', {
      type: 'search', id: 'topic-search', class: 'input', value: search, autocomplete: 'off',
      placeholder: t('topics.searchPlaceholder'), 'aria-label': t('topics.search'), maxlength: '100'
    });
    const list = h('div', { class: 'topic-list', 'aria-live': 'polite' });
    append(view, [
      pageHeader(t('topics.title')),
      h('form', { class: 'search', role: 'search', onsubmit: (e) => e.preventDefault() },
        h('label', { class: 'visually-hidden', for: 'topic-search', text: t('topics.search') }), input),
      list
    ]);

    let searchId = 0;
    async function load(term) {
      const mine = ++searchId;
      clear(list);
      list.appendChild(loadingView());
      try {
        const data = await api('GET', '/api/v1/topics' + query({ lang: state.lang, search: term }));
        if (mine !== searchId || !ctx.alive()) return;
        clear(list);
        if (!data.topics.length) {
          list.appendChild(emptyView(term ? t('topics.noMatch', { query: term }) : t('topics.empty')));
          return;
        }
        for (const topic of data.topics) list.appendChild(topicCard(topic));
      } catch (err) {
        if (mine !== searchId || !ctx.alive()) return;
        clear(list);
        list.appendChild(errorView(err, () => load(input.value.trim())));
      }
    }

    let debounce = null;
    input.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        const term = input.value.trim();
        history.replaceState(null, '', term ? '#/topics?q=' + encodeURIComponent(term) : '#/topics');
        load(term);
      }, 250);
    });
    await load(search.trim());
  }

  function topicCard(topic) {
    const answered = topic.answered_count || 0;
    return h('a', { class: 'card topic-card', href: '#/topic/' + topic.id, dataset: { topicId: String(topic.id) } },
      h('span', { class: 'topic-icon', 'aria-hidden': 'true', text: topic.icon && topic.icon.length <= 4
        ? topic.icon : initialsOf(topic.name) }),
      h('span', { class: 'topic-body' },
        h('span', { class: 'topic-name', text: topic.name }),
        topic.description ? h('span', { class: 'topic-desc', text: topic.description }) : null,
        h('span', { class: 'topic-meta' },
          h('span', { class: 'topic-count', text: taskCount(topic.task_count) }),
          h('span', { class: 'topic-progress-text', text: t('topics.progress',
            { done: formatNumber(answered), total: formatNumber(topic.task_count) }) })),
        progressBar(answered, topic.task_count, t('topics.progress', { done: answered, total: topic.task_count }))));
  }

  // Topic: its subtopics with counts per difficulty, and a share button.
  async function pageTopic(view, route, ctx) {
    view.appendChild(loadingView());
    const [topicData, subData] = await Promise.all([
      api('GET', '/api/v1/topics/' + route.id + query({ lang: state.lang })),
      api('GET', '/api/v1/topics/' + route.id + '/subtopics' + query({ lang: state.lang }))
    ]);
    if (!ctx.alive()) return;
    clear(view);
    const topic = topicData.topic;
    const share = h('button', {
      type: 'button', class: 'btn btn-secondary share-button', 'aria-label': t('topic.share'),
      onclick: () => shareTopic(topic)
    }, h('span', { 'aria-hidden': 'true', text: '↗ ' }), t('topic.share'));
    append(view, [
      pageHeader(topic.name, share),
      topic.description ? h('p', { class: 'lead', text: topic.description }) : null,
      h('p', { class: 'hint', text: taskCount(topic.task_count) }),
      h('h2', { class: 'section-title', text: t('topic.subtopics') })
    ]);
    if (!subData.subtopics.length) {
      view.appendChild(emptyView(t('topic.empty')));
      return;
    }
    const list = h('ul', { class: 'subtopic-list' });
    for (const sub of subData.subtopics) {
      const solved = sub.solved_counts || { easy: 0, medium: 0, hard: 0, total: 0 };
      const chips = DIFFICULTIES.filter((d) => sub.task_counts[d] > 0).map((d) =>
        h('a', {
          class: 'chip chip-' + d, href: '#/subtopic/' + sub.id + '?topic=' + topic.id + '&difficulty=' + d,
          'aria-label': t('difficulty.' + d) + ': ' + t('topic.solved', { solved: solved[d], total: sub.task_counts[d] })
        }, t('difficulty.' + d) + ' ' + solved[d] + '/' + sub.task_counts[d]));
      list.appendChild(h('li', { class: 'card subtopic-card' },
        h('a', { class: 'subtopic-link', href: '#/subtopic/' + sub.id + '?topic=' + topic.id,
          dataset: { subtopicId: String(sub.id) } },
        h('span', { class: 'subtopic-name', text: sub.name }),
        h('span', { class: 'subtopic-total', text: t('topic.solved',
          { solved: solved.total, total: sub.task_counts.total }) })),
        progressBar(solved.total, sub.task_counts.total, t('topic.solved',
          { solved: solved.total, total: sub.task_counts.total })),
        h('span', { class: 'chips' }, chips)));
    }
    view.appendChild(list);
  }

  async function shareTopic(topic) {
    const link = shareLink(topic.id);
    const url = 'https://t.me/share/url?url=' + encodeURIComponent(link) + '&text=' +
      encodeURIComponent(t('topic.shareText', { name: topic.name }));
    if (tg && typeof tg.openTelegramLink === 'function') {
      try {
        tg.openTelegramLink(url);
        return;
      } catch (err) { /* fall through to copying */ }
    }
    try {
      await navigator.clipboard.writeText(link);
      toast(t('topic.copied'));
    } catch (err) {
      toast(t('topic.copyManually') + ' ' + link);
    }
  }

  // The task feed of a subtopic, one task at a time.
  async function pageFeed(view, route, ctx) {
    const difficulty = DIFFICULTIES.includes(route.params.get('difficulty')) ? route.params.get('difficulty') : '';
    const topicId = route.params.get('topic');
    view.appendChild(loadingView());
    const [feed, subs] = await Promise.all([
      api('GET', '/api/v1/subtopics/' + route.id + '/tasks' + query({ lang: state.lang, difficulty, limit: 100 })),
      topicId && /^\d+$/.test(topicId)
        ? api('GET', '/api/v1/topics/' + topicId + '/subtopics' + query({ lang: state.lang })).catch(() => null)
        : Promise.resolve(null)
    ]);
    if (!ctx.alive()) return;
    clear(view);
    const sub = subs && subs.subtopics.find((s) => String(s.id) === route.id);
    const filterHref = (d, taskId) => '#/subtopic/' + route.id + query({ topic: topicId, difficulty: d, task: taskId });
    const filters = h('nav', { class: 'filters', 'aria-label': t('feed.filter') },
      ['', ...DIFFICULTIES].map((d) => h('a', {
        class: 'chip chip-filter' + (d === difficulty ? ' is-active' : ''), href: filterHref(d),
        'aria-current': d === difficulty ? 'true' : null
      }, t('difficulty.' + (d || 'all')))));
    append(view, [pageHeader(sub ? sub.name : t('feed.title')), filters]);

    const tasks = feed.tasks;
    if (!tasks.length) {
      view.appendChild(emptyView(t('feed.empty')));
      return;
    }
    const wanted = route.params.get('task');
    let index = tasks.findIndex((task) => String(task.id) === wanted);
    if (index < 0) index = tasks.findIndex((task) => !task.answered);
    if (index < 0) index = 0;

    const slot = h('div', { class: 'feed-slot' });
    view.appendChild(slot);

    const total = Math.max(feed.total, tasks.length);
    const hasNext = () => index + 1 < tasks.length || tasks.length < total;

    // The next task; past the loaded page, the feed's next page is fetched first.
    async function next() {
      if (index + 1 >= tasks.length && tasks.length < total) {
        const more = await api('GET', '/api/v1/subtopics/' + route.id + '/tasks' +
          query({ lang: state.lang, difficulty, limit: 100, offset: tasks.length }));
        if (!ctx.alive()) return;
        if (!more.tasks.length) return;
        tasks.push(...more.tasks);
      }
      if (index + 1 < tasks.length) show(index + 1, true);
    }

    function goNext() {
      next().catch((err) => {
        if (!ctx.alive()) return;
        slot.appendChild(errorView(err, goNext));
      });
    }

    function show(i, focus) {
      index = i;
      const task = tasks[index];
      history.replaceState(null, '', filterHref(difficulty, task.id));
      clear(slot);
      const allDone = () => {
        if (!hasNext() && tasks.every((item) => item.answered) && !slot.querySelector('.all-done')) {
          slot.appendChild(h('p', { class: 'state-empty all-done', role: 'status', text: '🎉 ' + t('feed.allDone') }));
        }
      };
      slot.appendChild(taskCard(task, index, total, {
        onAnswered: () => { updateMainButton(); allDone(); },
        next: hasNext() ? goNext : null,
        prev: index > 0 ? () => show(index - 1, true) : null
      }));
      updateMainButton();
      allDone();
      if (focus) {
        const heading = slot.querySelector('.task-position');
        if (heading) heading.focus();
      }
      window.scrollTo(0, 0);
    }

    function updateMainButton() {
      const task = tasks[index];
      if (task.answered && hasNext()) setMainButton(t('feed.next'), goNext);
      else clearMainButton();
    }

    show(index, false);
  }

  function taskCard(task, index, total, nav) {
    const card = h('article', { class: 'card task-card', dataset: { taskId: String(task.id) },
      'aria-labelledby': 'task-pos-' + task.id });
    const optionsBox = h('div', { class: 'options', role: 'group', 'aria-label': t('feed.options') });
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const buttons = [];

    task.options.forEach((option, i) => {
      const button = h('button', { type: 'button', class: 'option', dataset: { index: String(i) },
        onclick: () => submit({ option_index: i }) },
      h('span', { class: 'option-letter', 'aria-hidden': 'true', text: String.fromCharCode(65 + i) }),
      h('span', { class: 'option-text', text: option }));
      buttons.push(button);
      optionsBox.appendChild(button);
    });
    const dontKnow = h('button', { type: 'button', class: 'option option-dont-know', dataset: { index: 'dont_know' },
      onclick: () => submit({ dont_know: true }) },
    h('span', { class: 'option-letter', 'aria-hidden': 'true', text: '?' }),
    h('span', { class: 'option-text', text: task.dont_know_option }));
    optionsBox.appendChild(dontKnow);

    const navRow = h('div', { class: 'task-nav' },
      h('button', { type: 'button', class: 'btn btn-secondary', disabled: !nav.prev, onclick: () => nav.prev && nav.prev(),
        'data-action': 'prev' }, '‹ ' + t('feed.prev')),
      h('button', { type: 'button', class: 'btn btn-primary', disabled: !nav.next, onclick: () => nav.next && nav.next(),
        'data-action': 'next' }, t('feed.next') + ' ›'));

    append(card, [
      h('div', { class: 'task-head' },
        h('h2', { class: 'task-position', id: 'task-pos-' + task.id, tabindex: '-1',
          text: t('feed.position', { n: index + 1, total }) }),
        h('span', { class: 'badge badge-' + task.difficulty, text: t('difficulty.' + task.difficulty) })),
      h('div', { class: 'question' }, markdown(task.question)),
      task.image_url ? h('img', { class: 'task-image', src: task.image_url, alt: t('feed.image') }) : null,
      optionsBox,
      result,
      task.external_link && /^https?:\/\//.test(task.external_link)
        ? h('p', null, h('a', { href: task.external_link, target: '_blank', rel: 'noopener noreferrer',
          class: 'learn-more', text: t('feed.learnMore') })) : null,
      navRow
    ]);

    function lock(chosen, correctIndex) {
      buttons.forEach((button, i) => {
        button.disabled = true;
        if (i === correctIndex) {
          button.classList.add('is-correct');
          button.appendChild(h('span', { class: 'option-tag', text: t('feed.rightAnswer') }));
        }
        if (i === chosen) {
          button.classList.add('is-chosen');
          if (i !== correctIndex) button.classList.add('is-wrong');
          button.appendChild(h('span', { class: 'option-tag', text: t('feed.yourChoice') }));
        }
      });
      dontKnow.disabled = true;
      if (chosen === 'dont_know') {
        dontKnow.classList.add('is-chosen', 'is-wrong');
        dontKnow.appendChild(h('span', { class: 'option-tag', text: t('feed.yourChoice') }));
      }
    }

    function showResult(info) {
      clear(result);
      result.className = 'result ' + (info.correct ? 'is-correct' : 'is-wrong');
      const correctText = task.options[info.correctIndex];
      append(result, [
        h('h3', { class: 'result-title', tabindex: '-1', text: info.correct ? '✓ ' + t('feed.correct')
          : '✗ ' + t('feed.wrong') }),
        info.dontKnow ? h('p', { text: t('feed.dontKnowChosen') }) : null,
        info.elsewhere ? h('p', { class: 'hint', text: t('feed.answeredElsewhere') }) : null,
        info.practice ? h('p', { class: 'hint', text: t('feed.practice') }) : null,
        h('p', { class: 'correct-option' }, t('feed.correctOption', { option: correctText })),
        info.explanation ? h('div', { class: 'explanation' },
          h('h4', { text: t('feed.explanation') }), markdown(info.explanation)) : null,
        info.shares ? sharesView(info.shares, info.totalFirst, info.correctIndex, info.chosen) : null,
        info.rating !== undefined ? h('p', { class: 'hint', text: t('feed.rating', { rating: info.rating }) }) : null
      ]);
    }

    async function submit(choice) {
      if (task.answered && !state.outcomes.has(task.id)) return;
      buttons.concat(dontKnow).forEach((b) => { b.disabled = true; });
      clear(result);
      result.className = 'result';
      result.appendChild(h('p', { class: 'hint', role: 'status', text: t('feed.sending') }));
      try {
        const outcome = await api('POST', '/api/v1/tasks/' + task.id + '/answer',
          Object.assign({ language: state.lang }, choice));
        state.outcomes.set(task.id, outcome);
        task.answered = true;
        task.correct_index = outcome.correct_index;
        if (outcome.explanation) task.explanation = outcome.explanation;
        if (!task.your_answer) {
          task.your_answer = { chosen_index: outcome.chosen_index, solved: outcome.correct, answered_in: state.lang };
        }
        haptic(outcome.correct ? 'success' : 'error');
        const chosen = choice.dont_know ? 'dont_know' : choice.option_index;
        lock(chosen, outcome.correct_index);
        showResult({
          correct: outcome.correct, correctIndex: outcome.correct_index, explanation: outcome.explanation,
          shares: outcome.option_shares, totalFirst: outcome.total_first_answers, chosen,
          dontKnow: Boolean(choice.dont_know), practice: !outcome.counted, rating: outcome.rating
        });
        const title = result.querySelector('.result-title');
        if (title) title.focus({ preventScroll: false });
        nav.onAnswered();
      } catch (err) {
        buttons.concat(dontKnow).forEach((b) => { b.disabled = false; });
        clear(result);
        result.appendChild(errorView(err, () => submit(choice)));
      }
    }

    if (task.answered) {
      const outcome = state.outcomes.get(task.id);
      const yours = task.your_answer || {};
      const chosen = outcome
        ? (outcome.chosen_index === null ? 'dont_know' : outcome.chosen_index)
        : (yours.chosen_index === null || yours.chosen_index === undefined
          ? (yours.answered_in && yours.answered_in !== state.lang ? null : 'dont_know') : yours.chosen_index);
      lock(chosen, task.correct_index);
      showResult({
        correct: outcome ? outcome.correct : Boolean(yours.solved), correctIndex: task.correct_index,
        explanation: task.explanation, chosen, dontKnow: chosen === 'dont_know',
        elsewhere: Boolean(yours.answered_in && yours.answered_in !== state.lang),
        shares: outcome ? outcome.option_shares : (task.option_shares || null),
        totalFirst: outcome ? outcome.total_first_answers : (task.total_first_answers || 0)
      });
    }
    return card;
  }

  function sharesView(shares, totalFirst, correctIndex, chosen) {
    const list = h('ul', { class: 'shares' });
    for (const share of shares) {
      const isCorrect = share.index === correctIndex;
      const isChosen = share.index === null ? chosen === 'dont_know' : share.index === chosen;
      const fill = h('span', { class: 'share-fill' });
      fill.style.width = Math.max(0, Math.min(100, Number(share.percent) || 0)) + '%';
      list.appendChild(h('li', { class: 'share' + (isCorrect ? ' is-correct' : '') + (isChosen ? ' is-chosen' : '') },
        h('span', { class: 'share-label' },
          h('span', { class: 'share-option', text: share.option }),
          h('span', { class: 'share-percent', text: formatPercent(share.percent) + ' (' + share.count + ')' })),
        h('span', { class: 'share-bar', 'aria-hidden': 'true' }, fill)));
    }
    return h('section', { class: 'shares-box', 'aria-label': t('feed.shares', { total: totalFirst }) },
      h('h4', { text: t('feed.shares', { total: totalFirst }) }), list);
  }

  // My statistics.
  async function pageStats(view, route, ctx) {
    view.appendChild(loadingView());
    const stats = await api('GET', '/api/v1/me/stats');
    if (!ctx.alive()) return;
    clear(view);
    const tile = (key, value, cls) => h('div', { class: 'stat ' + (cls || '') },
      h('span', { class: 'stat-value', text: value }), h('span', { class: 'stat-label', text: t(key) }));
    append(view, [
      pageHeader(t('stats.title')),
      statsBody(stats, tile)
    ]);
  }

  function statsBody(stats, tileFn) {
    const tile = tileFn || ((key, value, cls) => h('div', { class: 'stat ' + (cls || '') },
      h('span', { class: 'stat-value', text: value }), h('span', { class: 'stat-label', text: t(key) })));
    const topics = stats.topics.filter((topic) => topic.published > 0 || topic.attempted > 0);
    return h('div', { class: 'stats' },
      h('div', { class: 'stat-grid' },
        tile('stats.rating', formatNumber(stats.rating), 'stat-rating'),
        tile('stats.solved', formatNumber(stats.solved) + ' / ' + formatNumber(stats.attempted), 'stat-solved'),
        tile('stats.accuracy', formatPercent(stats.accuracy), 'stat-accuracy'),
        tile('stats.streak', formatNumber(stats.current_streak), 'stat-streak'),
        tile('stats.bestStreak', formatNumber(stats.best_streak), 'stat-best-streak'),
        tile('stats.failed', formatNumber(stats.failed), 'stat-failed')),
      stats.favourite_topic ? h('p', { class: 'hint', text: t('stats.favourite',
        { name: stats.favourite_topic.name }) }) : null,
      h('h2', { class: 'section-title', text: t('stats.achievements') }),
      stats.achievements.length
        ? h('ul', { class: 'achievements' }, stats.achievements.map((a) => h('li', { class: 'achievement',
          dataset: { code: a.code } }, h('span', { 'aria-hidden': 'true', text: '★ ' }),
        I18N.STRINGS.en['ach.' + a.code] ? t('ach.' + a.code) : a.title)))
        : h('p', { class: 'hint', text: t('stats.noAchievements') }),
      h('h2', { class: 'section-title', text: t('stats.topics') }),
      topics.length
        ? h('ul', { class: 'topic-progress' }, topics.map((topic) => h('li', { class: 'card progress-card' },
          h('span', { class: 'progress-head' }, h('span', { class: 'progress-name', text: topic.name }),
            h('span', { class: 'hint', text: t('stats.topicLine', { solved: topic.solved, published: topic.published })
              + ' · ' + formatPercent(topic.accuracy) })),
          progressBar(topic.solved, topic.published, t('stats.topicLine',
            { solved: topic.solved, published: topic.published })))))
        : h('p', { class: 'hint', text: t('stats.noTopics') }));
  }

  // The leaderboard with its filters; rows open public profiles.
  async function pageLeaderboard(view, route, ctx) {
    const params = route.params;
    const filter = {
      gender: ['male', 'female', 'other'].includes(params.get('gender')) ? params.get('gender') : '',
      age: ['18-25', '26-35', '36-45', '46+'].includes(params.get('age')) ? params.get('age') : '',
      topic: /^\d+$/.test(params.get('topic') || '') ? params.get('topic') : '',
      online: params.get('online') === 'true' ? 'true' : ''
    };
    view.appendChild(loadingView());
    const [board, topics] = await Promise.all([
      api('GET', '/api/v1/leaderboard' + query(filter)),
      api('GET', '/api/v1/topics' + query({ lang: state.lang })).catch(() => ({ topics: [] }))
    ]);
    if (!ctx.alive()) return;
    clear(view);

    const apply = () => {
      const next = {
        gender: form.querySelector('#lb-gender').value, age: form.querySelector('#lb-age').value,
        topic: form.querySelector('#lb-topic').value, online: form.querySelector('#lb-online').checked ? 'true' : ''
      };
      location.hash = '#/leaderboard' + query(next);
    };
    const select = (id, label, options, value) => {
      const control = h('select', { id, class: 'input', onchange: apply },
        h('option', { value: '', text: t('lb.any') }),
        options.map(([v, text]) => h('option', { value: v, text })));
      control.value = value || '';
      return h('label', { class: 'field field-inline', for: id },
        h('span', { class: 'field-label', text: label }), control);
    };
    const form = h('form', { class: 'filters-form', 'aria-label': t('lb.filters'), onsubmit: (e) => e.preventDefault() },
      select('lb-gender', t('lb.gender'), ['male', 'female', 'other'].map((g) => [g, t('gender.' + g)]), filter.gender),
      select('lb-age', t('lb.age'), ['18-25', '26-35', '36-45', '46+'].map((a) => [a, a]), filter.age),
      select('lb-topic', t('lb.topic'), topics.topics.map((tp) => [String(tp.id), tp.name]), filter.topic),
      h('label', { class: 'field field-check', for: 'lb-online' },
        h('input', { type: 'checkbox', id: 'lb-online', checked: filter.online === 'true', onchange: apply }),
        h('span', { text: t('lb.online') })));
    append(view, [pageHeader(t('lb.title')), form]);

    if (!board.rows.length) {
      view.appendChild(emptyView(t('lb.empty')));
      return;
    }
    const myId = state.me ? state.me.id : null;
    const list = h('ol', { class: 'leaderboard' });
    for (const row of board.rows) {
      const mine = row.user_id === myId;
      list.appendChild(h('li', { class: 'lb-item' + (mine ? ' is-me' : '') },
        h('a', {
          class: 'lb-row', href: '#/user/' + row.user_id, dataset: { userId: String(row.user_id) },
          'aria-current': mine ? 'true' : null,
          'aria-label': t('lb.rowLabel', { rank: row.rank, name: row.name, rating: row.rating }) +
            (mine ? ' (' + t('lb.you') + ')' : '')
        },
        h('span', { class: 'lb-rank', text: String(row.rank) }),
        avatar(row.avatar_url, row.name, 'sm'),
        h('span', { class: 'lb-who' },
          h('span', { class: 'lb-name' }, row.name, mine ? h('span', { class: 'you-badge', text: t('lb.you') }) : null),
          row.username || row.grade ? h('span', { class: 'hint lb-sub', text: [row.username ? '@' + row.username : '',
            row.grade ? t('grade.' + row.grade) : ''].filter(Boolean).join(' · ') }) : null),
        h('span', { class: 'lb-score' },
          h('span', { class: 'lb-rating', text: t('lb.rating', { rating: formatNumber(row.rating) }) }),
          h('span', { class: 'hint', text: t('lb.solved', { solved: formatNumber(row.solved) }) })))));
    }
    view.appendChild(list);
    if (myId && !board.rows.some((row) => row.user_id === myId)) {
      view.appendChild(h('p', { class: 'hint', text: t('lb.notListed') }));
    }
  }

  // A user's public profile.
  async function pageUser(view, route, ctx) {
    view.appendChild(loadingView());
    const user = await api('GET', '/api/v1/users/' + route.id);
    if (!ctx.alive()) return;
    clear(view);
    const head = h('div', { class: 'profile-head' },
      avatar(user.avatar_url, user.name, 'lg'),
      h('div', { class: 'profile-id' },
        h('h1', { class: 'page-title', tabindex: '-1', text: user.name }),
        user.username ? h('p', { class: 'hint', text: '@' + user.username }) : null,
        user.online !== undefined ? h('p', { class: 'online ' + (user.online ? 'is-online' : '') },
          h('span', { class: 'dot', 'aria-hidden': 'true' }), t(user.online ? 'user.online' : 'user.offline')) : null));
    view.appendChild(head);
    if (!user.stats) {
      view.appendChild(emptyView(t('user.private'), '🔒'));
      return;
    }
    const facts = [
      user.grade ? t('grade.' + user.grade) : null,
      user.gender ? t('gender.' + user.gender) : null,
      user.age !== null && user.age !== undefined ? t('user.age', { age: user.age }) : null,
      user.created_at ? t('user.since', { date: formatDate(user.created_at) }) : null
    ].filter(Boolean);
    append(view, [
      facts.length ? h('p', { class: 'facts', text: facts.join(' · ') }) : null,
      user.bio ? h('p', { class: 'bio', text: user.bio }) : null,
      statsBody(user.stats)
    ]);
  }

  // The player's own profile: public fields, privacy, avatars.
  async function pageProfile(view, route, ctx) {
    view.appendChild(loadingView());
    const [me, topics] = await Promise.all([
      api('GET', '/api/v1/me'),
      api('GET', '/api/v1/topics' + query({ lang: state.lang })).catch(() => ({ topics: [] }))
    ]);
    if (!ctx.alive()) return;
    state.me = me;
    clear(view);

    const field = (id, label, control, hint) => h('div', { class: 'field' },
      h('label', { class: 'field-label', for: id, text: label }), control,
      hint ? h('span', { class: 'hint field-hint', text: hint }) : null,
      h('span', { class: 'field-error', id: id + '-error', 'aria-live': 'polite' }));
    const text = (id, value, extra) => h('input', Object.assign({ id, class: 'input', type: 'text', value: value || '',
      'aria-describedby': id + '-error' }, extra || {}));
    const choice = (id, options, value) => {
      const control = h('select', { id, class: 'input', 'aria-describedby': id + '-error' },
        h('option', { value: '', text: t('profile.notSet') }),
        options.map((o) => h('option', { value: o, text: t(id.replace('pf-', '') + '.' + o) })));
      control.value = value || '';
      return control;
    };

    const favourites = h('fieldset', { class: 'field favourites' },
      h('legend', { class: 'field-label', text: t('profile.favourites') }),
      topics.topics.map((tp) => h('label', { class: 'field-check' },
        h('input', { type: 'checkbox', name: 'favourite', value: String(tp.id),
          checked: me.favourite_topic_ids.includes(tp.id) }),
        h('span', { text: tp.name }))),
      h('span', { class: 'field-error', id: 'pf-favourites-error', 'aria-live': 'polite' }));

    const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    const saveButton = h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'save' },
      t('profile.save'));
    const form = h('form', { class: 'profile-form', novalidate: true },
      field('pf-first_name', t('profile.firstName'), text('pf-first_name', me.first_name,
        { maxlength: '128', autocomplete: 'given-name' })),
      field('pf-last_name', t('profile.lastName'), text('pf-last_name', me.last_name,
        { maxlength: '128', autocomplete: 'family-name' })),
      field('pf-username', t('profile.username'), text('pf-username', me.username,
        { maxlength: '32', autocomplete: 'username', pattern: '[A-Za-z0-9_]{3,32}' }), t('profile.usernameHint')),
      field('pf-bio', t('profile.bio'), h('textarea', { id: 'pf-bio', class: 'input', rows: '3', maxlength: '1000',
        'aria-describedby': 'pf-bio-error', value: me.bio || '' })),
      field('pf-gender', t('profile.gender'), choice('pf-gender', ['male', 'female', 'other'], me.gender)),
      field('pf-birth_date', t('profile.birthDate'), h('input', { id: 'pf-birth_date', class: 'input', type: 'date',
        value: me.birth_date || '', 'aria-describedby': 'pf-birth_date-error' })),
      field('pf-grade', t('profile.grade'), choice('pf-grade', ['junior', 'middle', 'senior'], me.grade)),
      favourites,
      h('fieldset', { class: 'field' },
        h('legend', { class: 'field-label', text: t('profile.privacy') }),
        h('label', { class: 'field-check', for: 'pf-is_public' },
          h('input', { type: 'checkbox', id: 'pf-is_public', checked: me.is_public }),
          h('span', { text: t('profile.public') }))),
      h('div', { class: 'form-actions' }, saveButton, status));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = (id) => form.querySelector('#' + id).value.trim();
      const changes = {
        first_name: value('pf-first_name') || null,
        last_name: value('pf-last_name') || null,
        username: value('pf-username') || null,
        bio: value('pf-bio') || null,
        gender: value('pf-gender') || null,
        birth_date: value('pf-birth_date') || null,
        grade: value('pf-grade') || null,
        favourite_topic_ids: Array.from(form.querySelectorAll('input[name=favourite]:checked'))
          .map((input) => Number(input.value)),
        is_public: form.querySelector('#pf-is_public').checked
      };
      form.querySelectorAll('.field-error').forEach((el) => { el.textContent = ''; });
      form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
      saveButton.disabled = true;
      status.textContent = t('profile.saving');
      try {
        state.me = await api('PATCH', '/api/v1/me', changes);
        status.textContent = t('profile.saved');
        toast(t('profile.saved'));
      } catch (err) {
        if (err.fields) {
          status.textContent = t('profile.invalid');
          for (const [name, problem] of Object.entries(err.fields)) {
            const key = name === 'favourite_topic_ids' ? 'favourites' : name;
            const slot = form.querySelector('#pf-' + key + '-error');
            const input = form.querySelector('#pf-' + key);
            if (slot) slot.textContent = problem;
            if (input) input.setAttribute('aria-invalid', 'true');
          }
        } else {
          status.textContent = err.code === 'network' ? t('error.network') : t('error.server', { message: err.message });
        }
      } finally {
        saveButton.disabled = false;
      }
    });

    append(view, [
      pageHeader(t('profile.title'), h('a', { class: 'btn btn-secondary', href: '#/user/' + me.id + '?from=profile',
        text: t('profile.viewPublic') })),
      avatarSection(me),
      form
    ]);
  }

  // The avatar manager: the player's processed avatars (newest first, at most three), the current one marked, "Use"
  // on the others, "Remove" on each (after a confirmation: Telegram's popup when the client has one, else an
  // in-page step), and the upload. Every answer carries the profile with its `avatars`; the list is redrawn from it.
  function avatarSection(me) {
    let profile = me;
    let busy = false;
    let pending = null; // the avatar whose removal awaits the in-page confirmation
    const list = h('ul', { class: 'avatar-list', 'aria-labelledby': 'avatars-title' });
    const fallback = h('div', { class: 'avatar-fallback' });
    const confirmBox = h('div', { class: 'avatar-confirm', role: 'group', 'aria-labelledby': 'avatar-confirm-text' });
    const errorBox = h('div', { class: 'avatar-error', role: 'alert' });
    const hint = h('p', { class: 'hint', id: 'avatars-hint' });
    const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    const title = h('h2', { class: 'section-title', id: 'avatars-title', tabindex: '-1', text: t('profile.avatars') });
    const input = h('input', { type: 'file', id: 'avatar-file', class: 'visually-hidden',
      accept: 'image/jpeg,image/png,image/gif,image/webp', 'aria-describedby': 'avatars-hint' });
    const label = h('label', { for: 'avatar-file', class: 'btn btn-secondary file-button' }, t('profile.upload'));

    // An API without the list (older servers) still shows the current avatar, without actions.
    const avatarsOf = (p) => (Array.isArray(p.avatars) ? p.avatars.slice(0, 3)
      : p.avatar_url ? [{ id: null, url: p.avatar_url, created_at: null, current: true }] : []);
    const nameOf = (p) => [p.first_name, p.last_name].filter(Boolean).join(' ') || p.username || '?';

    function draw(focus) {
      const avatars = avatarsOf(profile);
      if (pending && !avatars.some((a) => a.id === pending.id)) pending = null;
      clear(list);
      list.hidden = !avatars.length;
      avatars.forEach((a, i) => {
        const n = i + 1;
        const alt = a.created_at ? t('profile.avatarAlt', { n, total: avatars.length, when: formatDateTime(a.created_at) })
          : t('profile.currentAvatarAlt');
        list.appendChild(h('li', {
          class: 'avatar-item' + (a.current ? ' is-current' : '') + (pending && pending.id === a.id ? ' is-pending' : ''),
          'aria-current': a.current ? 'true' : null, dataset: { avatarId: a.id || '' }
        },
        h('span', { class: 'avatar-frame' },
          h('img', { class: 'avatar-img' + (a.current ? ' is-current' : ''), src: a.url, alt,
            referrerpolicy: 'no-referrer' }),
          a.current ? h('span', { class: 'avatar-check', 'aria-hidden': 'true', text: '✓' }) : null),
        a.current ? h('span', { class: 'avatar-badge', text: t('profile.current') })
          : a.id ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-action': 'use-avatar',
            'aria-label': t('profile.useLabel', { n }), disabled: busy, onclick: () => useAvatar(a, n) }, t('profile.use'))
            : null,
        a.id ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'data-action': 'remove-avatar',
          'aria-label': t('profile.removeLabel', { n }), 'aria-expanded': pending && pending.id === a.id ? 'true' : null,
          disabled: busy, onclick: () => askRemoval(a, n) }, t('profile.remove')) : null));
      });

      clear(fallback);
      fallback.hidden = avatars.length > 0;
      if (!avatars.length) {
        append(fallback, [avatar(profile.telegram_photo_url, nameOf(profile), 'lg'),
          h('span', { class: 'hint', text: t(profile.telegram_photo_url ? 'profile.telegramPhoto' : 'profile.noAvatar') })]);
      }

      clear(confirmBox);
      confirmBox.hidden = !pending;
      if (pending) {
        const target = pending;
        append(confirmBox, [
          h('p', { id: 'avatar-confirm-text', text: t('profile.confirmRemove', { n: target.n }) }),
          h('div', { class: 'avatar-confirm-actions' },
            h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'confirm-remove', disabled: busy,
              onclick: () => removeAvatar(target) }, t('profile.confirmRemoval')),
            h('button', { type: 'button', class: 'btn btn-secondary', 'data-action': 'cancel-remove', disabled: busy,
              onclick: cancelRemoval }, t('profile.cancel')))
        ]);
      }

      hint.textContent = t(avatars.length >= 3 ? 'profile.avatarsFull' : 'profile.avatarsHint');
      input.disabled = busy;
      label.classList.toggle('is-disabled', busy);
      list.setAttribute('aria-busy', busy ? 'true' : 'false');
      const target = focus && focus();
      if (target) target.focus();
    }

    const buttonOf = (id, action) => list.querySelector('.avatar-item[data-avatar-id="' + id + '"] [data-action="' +
      action + '"]');
    const firstControl = () => list.querySelector('button') || title;

    function showFailure(err, retry) {
      clear(errorBox);
      const gone = err.status === 404 || err.status === 400;
      const message = gone ? t('profile.avatarGone') : err.code === 'network' ? t('error.network')
        : t('error.server', { message: err.message });
      append(errorBox, [h('span', { text: message }),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-action': 'avatar-retry',
          onclick: gone ? reload : retry }, t(gone ? 'profile.reloadAvatars' : 'retry'))]);
      errorBox.querySelector('button').focus();
    }

    // Runs one change; on success the answer (the profile with `avatars`) is drawn, on failure an inline error
    // offers to try again.
    async function change(request, done, focus, retry) {
      busy = true;
      clear(errorBox);
      status.textContent = t('profile.saving');
      draw();
      try {
        const answer = await request();
        profile = answer;
        state.me = answer;
        busy = false;
        status.textContent = done;
        draw(focus);
      } catch (err) {
        busy = false;
        status.textContent = '';
        draw();
        showFailure(err, retry);
      }
    }

    function useAvatar(a, n) {
      pending = null;
      change(() => api('PATCH', '/api/v1/me', { avatar_id: a.id }), t('profile.avatarUsed', { n }),
        () => buttonOf(a.id, 'remove-avatar') || firstControl(), () => useAvatar(a, n));
    }

    function removeAvatar(target) {
      pending = null;
      change(() => api('DELETE', '/api/v1/me/avatars/' + encodeURIComponent(target.id)), t('profile.avatarRemoved'),
        firstControl, () => removeAvatar(target));
    }

    function reload() {
      pending = null;
      change(() => api('GET', '/api/v1/me'), '', firstControl, reload);
    }

    function askRemoval(a, n) {
      const target = { id: a.id, n };
      if (confirmInTelegram(t('profile.confirmRemove', { n }), () => removeAvatar(target))) return;
      pending = target;
      draw(() => confirmBox.querySelector('[data-action="confirm-remove"]'));
    }

    function cancelRemoval() {
      const id = pending && pending.id;
      pending = null;
      draw(() => (id && buttonOf(id, 'remove-avatar')) || firstControl());
    }

    confirmBox.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); cancelRemoval(); }
    });

    async function upload(file) {
      busy = true;
      clear(errorBox);
      draw();
      try {
        status.textContent = t('profile.uploading');
        const done = await uploadAvatar(file, () => { status.textContent = t('profile.processing'); });
        if (done.status === 'ready') {
          profile = await api('GET', '/api/v1/me');
          state.me = profile;
          status.textContent = t('profile.uploaded');
        } else {
          status.textContent = t('profile.rejected', { reason: done.rejection || done.status });
        }
        busy = false;
        draw();
      } catch (err) {
        busy = false;
        status.textContent = '';
        draw();
        showFailure(err, () => upload(file));
      }
    }

    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      input.value = '';
      if (!file || busy) return;
      if (!['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(file.type)) {
        status.textContent = t('profile.badType');
        return;
      }
      if (file.size > 5 * 1024 * 1024) {
        status.textContent = t('profile.tooBig');
        return;
      }
      upload(file);
    });

    draw();
    return h('section', { class: 'card avatar-section', 'aria-labelledby': 'avatars-title' },
      title, list, fallback, confirmBox, errorBox, hint, input, label, status);
  }

  // Telegram's own confirmation popup (Bot API 6.2+); false when the client has none, so the page asks itself.
  function confirmInTelegram(message, onConfirmed) {
    if (!tg || typeof tg.showConfirm !== 'function') return false;
    if (typeof tg.isVersionAtLeast === 'function' && !tg.isVersionAtLeast('6.2')) return false;
    try {
      tg.showConfirm(message, (ok) => { if (ok) onConfirmed(); });
      return true;
    } catch (err) {
      return false;
    }
  }

  // The pre-signed upload: ask for a URL, PUT the bytes there, say it is complete, poll until processed.
  async function uploadAvatar(file, onProcessing) {
    const ticket = await api('POST', '/api/v1/uploads', { purpose: 'avatar', content_type: file.type, size: file.size });
    let response;
    try {
      response = await fetch(ticket.upload.url, {
        method: ticket.upload.method || 'PUT', headers: ticket.upload.headers || { 'content-type': file.type },
        body: file, credentials: 'omit'
      });
    } catch (err) {
      throw new ApiError('network', t('error.network'), 0);
    }
    if (!response.ok) throw new ApiError('upload_failed', 'HTTP ' + response.status, response.status);
    let upload = await api('POST', '/api/v1/uploads/' + ticket.id + '/complete');
    onProcessing();
    for (let i = 0; i < 64 && (upload.status === 'processing' || upload.status === 'pending'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 250 * (i + 1))));
      upload = await api('GET', '/api/v1/uploads/' + ticket.id);
    }
    return upload;
  }

  async function pageMissing(view) {
    append(view, [pageHeader(t('error.title')), emptyView(t('error.notFound')),
      h('p', null, h('a', { class: 'btn btn-primary', href: '#/topics', text: t('nav.topics') }))]);
  }

  const PAGES = {
    topics: pageTopics, topic: pageTopic, feed: pageFeed, stats: pageStats, leaderboard: pageLeaderboard,
    user: pageUser, profile: pageProfile, missing: pageMissing
  };
  const NAV_OF = { topics: 'topics', topic: 'topics', feed: 'topics', stats: 'stats', leaderboard: 'leaderboard',
    user: 'leaderboard', profile: 'profile' };

  // --- the shell -----------------------------------------------------------------------------------------------

  function renderChrome(route) {
    document.documentElement.lang = state.lang;
    document.title = t('app.title');
    $('#app-title').textContent = t('app.title');
    $('#skip-link').textContent = t('skip');
    const nav = $('#nav');
    nav.setAttribute('aria-label', t('nav.label'));
    clear(nav);
    const current = NAV_OF[route.name];
    for (const [name, href] of [['topics', '#/topics'], ['stats', '#/stats'], ['leaderboard', '#/leaderboard'],
      ['profile', '#/profile']]) {
      nav.appendChild(h('a', { class: 'nav-link' + (current === name ? ' is-active' : ''), href,
        'aria-current': current === name ? 'page' : null, dataset: { nav: name } },
      h('span', { class: 'nav-icon', 'aria-hidden': 'true', text: { topics: '☰', stats: '◔', leaderboard: '♛',
        profile: '☺' }[name] }),
      h('span', { class: 'nav-text', text: t('nav.' + name) })));
    }
    const lang = $('#lang');
    lang.setAttribute('aria-label', t('lang.switch'));
    clear(lang);
    for (const code of I18N.LANGUAGES) {
      lang.appendChild(h('button', {
        type: 'button', class: 'lang-button' + (code === state.lang ? ' is-active' : ''), lang: code,
        'aria-pressed': code === state.lang ? 'true' : 'false', title: t('lang.' + code),
        dataset: { lang: code }, onclick: () => switchLanguage(code)
      }, code.toUpperCase()));
    }
    updateBackButton(route);
  }

  async function render() {
    const id = ++state.renderId;
    const route = parseRoute();
    const view = $('#view');
    clearMainButton();
    $('#toast').classList.remove('is-visible');
    renderChrome(route);
    clear(view);
    view.dataset.page = route.name;
    view.setAttribute('aria-busy', 'true');
    const ctx = { alive: () => id === state.renderId };
    try {
      await PAGES[route.name](view, route, ctx);
    } catch (err) {
      if (!ctx.alive()) return;
      clear(view);
      view.appendChild(errorView(err, () => render()));
    } finally {
      if (ctx.alive()) view.removeAttribute('aria-busy');
    }
    if (ctx.alive() && document.activeElement === document.body) {
      const title = view.querySelector('.page-title');
      if (title && state.renderId > 1) title.focus({ preventScroll: true });
    }
  }

  function switchLanguage(code) {
    if (code === state.lang || !I18N.LANGUAGES.includes(code)) return;
    state.lang = code;
    try { sessionStorage.setItem(LANG_KEY, code); } catch (err) { /* ignore */ }
    // The profile language decides the content of statistics and the bot's messages: keep it in step.
    if (state.token) {
      api('PATCH', '/api/v1/me', { language: code }).then((me) => { state.me = me; }).catch(() => {});
    }
    render();
  }

  function initialLanguage() {
    try {
      const saved = sessionStorage.getItem(LANG_KEY);
      if (I18N.LANGUAGES.includes(saved)) return saved;
    } catch (err) { /* ignore */ }
    const code = tg && tg.initDataUnsafe && tg.initDataUnsafe.user && tg.initDataUnsafe.user.language_code;
    const fromTelegram = String(code || '').slice(0, 2).toLowerCase();
    if (I18N.LANGUAGES.includes(fromTelegram)) return fromTelegram;
    const fromBrowser = String(navigator.language || '').slice(0, 2).toLowerCase();
    return !tg && I18N.LANGUAGES.includes(fromBrowser) ? fromBrowser : 'en';
  }

  function renderNotInTelegram() {
    document.documentElement.lang = state.lang;
    document.title = t('app.title');
    $('#app-title').textContent = t('app.title');
    $('#nav').hidden = true;
    $('#lang').hidden = true;
    $('#skip-link').hidden = true;
    const view = $('#view');
    clear(view);
    view.dataset.page = 'not-in-telegram';
    const bot = document.querySelector('meta[name="telegram-bot-url"]');
    const botUrl = bot && /^https:\/\/t\.me\/\w+/.test(bot.content) ? bot.content : '';
    append(view, [h('div', { class: 'state state-telegram' },
      h('span', { class: 'state-icon', 'aria-hidden': 'true', text: '✈' }),
      h('h1', { class: 'page-title', text: t('notg.title') }),
      h('p', { text: t('notg.body') }),
      botUrl ? h('a', { class: 'btn btn-primary', href: botUrl, text: t('notg.bot') }) : null)]);
  }

  async function start() {
    applyTheme();
    applySafeAreas();
    state.lang = initialLanguage();
    if (!tg || !tg.initData) {
      renderNotInTelegram();
      return;
    }
    safely(() => tg.ready());
    safely(() => tg.expand());
    onTelegram('themeChanged', applyTheme);
    onTelegram('safeAreaChanged', applySafeAreas);
    onTelegram('contentSafeAreaChanged', applySafeAreas);
    onTelegram('viewportChanged', applySafeAreas);
    if (tg.BackButton) safely(() => tg.BackButton.onClick(goBack));

    const deepLink = startRoute();
    if (deepLink && (!location.hash || location.hash === '#' || location.hash === '#/')) {
      history.replaceState(null, '', deepLink);
    }

    const view = $('#view');
    renderChrome(parseRoute());
    const boot = async () => {
      clear(view);
      view.appendChild(loadingView());
      try {
        await ensureSession();
      } catch (err) {
        clear(view);
        const box = errorView(err, boot);
        if (err.code !== 'network') box.querySelector('p').textContent = t('error.signIn', { message: err.message });
        view.appendChild(box);
        return;
      }
      window.addEventListener('hashchange', render);
      heartbeat();
      setInterval(heartbeat, 60 * 1000);
      document.addEventListener('visibilitychange', heartbeat);
      render();
    };
    boot();
  }

  start();
})();
