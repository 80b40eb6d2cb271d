'use strict';
// The reset link's token stays in this page: it is read from the address, sent only to the confirm route, and
// the page sends no referrer.
(function () {
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(location.search).get('token') || '';
  const show = (id, text) => { const el = $(id); el.textContent = text; el.hidden = !text; };

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await response.json(); } catch (_) { /* an empty or non-JSON answer */ }
    return { status: response.status, error: answer.error || null, retryAfter: response.headers.get('retry-after') };
  }

  function problemOf(result, field) {
    if (result.status === 429) {
      const minutes = Math.max(1, Math.ceil(Number(result.retryAfter || 60) / 60));
      return `Too many tries: wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`;
    }
    const error = result.error;
    if (error && error.fields && error.fields[field]) return `The ${field === 'email' ? 'address' : 'password'} ${error.fields[field]}.`;
    if (error && error.message) return error.message.charAt(0).toUpperCase() + error.message.slice(1) + '.';
    return 'Something went wrong; try again in a moment.';
  }

  function ask(intro) {
    $('choose').hidden = true;
    if (intro) $('ask-intro').textContent = intro;
    $('ask').hidden = false;
  }

  $('choose').addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = $('password').value;
    if (password !== $('repeat').value) return show('choose-problem', 'The two passwords differ.');
    show('choose-problem', '');
    let result;
    try {
      result = await post('/api/v1/auth/password-reset/confirm', { token, new_password: password });
    } catch (_) {
      return show('choose-problem', 'The network failed; try again.');
    }
    if (result.status === 200) {
      $('choose').hidden = true;
      return show('done', 'Your password is changed, every other session is signed out, and you are signed in here.');
    }
    if (result.error && result.error.code === 'invalid_reset_token') {
      return ask('This link is invalid, used or expired. Enter your address for a new one.');
    }
    show('choose-problem', problemOf(result, 'new_password'));
  });

  $('ask').addEventListener('submit', async (event) => {
    event.preventDefault();
    show('ask-problem', '');
    let result;
    try {
      result = await post('/api/v1/auth/password-reset', { email: $('email').value });
    } catch (_) {
      return show('ask-problem', 'The network failed; try again.');
    }
    if (result.status === 202) {
      $('ask').hidden = true;
      return show('done', 'If an account uses this address, a link is on its way. It works once, for an hour.');
    }
    show('ask-problem', problemOf(result, 'email'));
  });

  if (/^[0-9a-f]{64}$/i.test(token)) $('choose').hidden = false; else ask('');
})();
