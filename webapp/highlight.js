// A small syntax highlighter for the code blocks of questions. It never builds HTML from strings: it splits the
// code into tokens (keywords, strings, comments, numbers, literals, function names) and returns DOM nodes whose
// text is set with `textContent`, so whatever a question contains is shown, never run. Languages: python,
// javascript (and typescript), go, rust, sql, java, c/c++; anything else gets a generic rule set.
(function () {
  'use strict';

  const words = (s) => new Set(s.split(/\s+/).filter(Boolean));

  const LANGS = {
    python: {
      keywords: words('and as assert async await break class continue def del elif else except finally for from ' +
        'global if import in is lambda nonlocal not or pass raise return try while with yield match case'),
      literals: words('True False None self'),
      line: ['#'],
      block: [],
      quotes: ['"""', "'''", '"', "'"],
      prefixes: /^[rbfuRBFU]{1,2}(?=['"])/
    },
    javascript: {
      keywords: words('async await break case catch class const continue debugger default delete do else export ' +
        'extends finally for function if import in instanceof let new of return static super switch this throw ' +
        'try typeof var void while with yield interface type enum implements'),
      literals: words('true false null undefined NaN Infinity'),
      line: ['//'],
      block: [['/*', '*/']],
      quotes: ['`', '"', "'"]
    },
    go: {
      keywords: words('break case chan const continue default defer else fallthrough for func go goto if import ' +
        'interface map package range return select struct switch type var'),
      literals: words('true false nil iota'),
      line: ['//'],
      block: [['/*', '*/']],
      quotes: ['`', '"', "'"]
    },
    rust: {
      keywords: words('as async await break const continue crate dyn else enum extern fn for if impl in let loop ' +
        'match mod move mut pub ref return static struct super trait type unsafe use where while Self self'),
      literals: words('true false None Some Ok Err'),
      line: ['//'],
      block: [['/*', '*/']],
      quotes: ['"']
    },
    sql: {
      keywords: words('select from where and or not insert into values update set delete create table drop alter ' +
        'index on join left right inner outer full cross group by order having limit offset as distinct union all ' +
        'case when then else end in is like between exists primary key foreign references default with returning ' +
        'count sum avg min max asc desc'),
      literals: words('null true false'),
      caseInsensitive: true,
      line: ['--'],
      block: [['/*', '*/']],
      quotes: ["'", '"']
    },
    java: {
      keywords: words('abstract assert boolean break byte case catch char class const continue default do double ' +
        'else enum extends final finally float for goto if implements import instanceof int interface long native ' +
        'new package private protected public return short static strictfp super switch synchronized this throw ' +
        'throws transient try void volatile while var record'),
      literals: words('true false null'),
      line: ['//'],
      block: [['/*', '*/']],
      quotes: ['"', "'"]
    },
    c: {
      keywords: words('auto break case char const continue default do double else enum extern float for goto if ' +
        'inline int long register restrict return short signed sizeof static struct switch typedef union unsigned ' +
        'void volatile while bool class namespace template typename public private protected virtual new delete ' +
        'using this throw try catch auto constexpr nullptr std include define'),
      literals: words('true false NULL nullptr'),
      line: ['//'],
      block: [['/*', '*/']],
      quotes: ['"', "'"]
    },
    generic: {
      keywords: words('if else for while do return function def class fn func let var const import from in switch ' +
        'case break continue try catch throw new echo then fi done'),
      literals: words('true false null nil None'),
      line: ['//', '#'],
      block: [['/*', '*/']],
      quotes: ['"', "'", '`']
    }
  };

  const ALIASES = {
    py: 'python', python3: 'python', js: 'javascript', jsx: 'javascript', ts: 'typescript', tsx: 'javascript',
    typescript: 'javascript', node: 'javascript', golang: 'go', rs: 'rust', postgres: 'sql', postgresql: 'sql',
    mysql: 'sql', sqlite: 'sql', kotlin: 'java', 'c++': 'c', cpp: 'c', cc: 'c', h: 'c', hpp: 'c', cxx: 'c'
  };

  function languageOf(name) {
    const key = String(name || '').trim().toLowerCase();
    const resolved = ALIASES[key] || key;
    return LANGS[resolved] ? resolved : 'generic';
  }

  const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)[a-zA-Z0-9]*/;
  const IDENT = /^[A-Za-z_$][\w$]*/;

  // Splits `code` into [kind, text] pairs; kind is null for plain text.
  function tokenize(code, langName) {
    const spec = LANGS[languageOf(langName)];
    const out = [];
    let plain = '';
    const flush = () => { if (plain) { out.push([null, plain]); plain = ''; } };
    const push = (kind, text) => { flush(); out.push([kind, text]); };
    let i = 0;
    const n = code.length;
    outer: while (i < n) {
      for (const [open, close] of spec.block) {
        if (code.startsWith(open, i)) {
          const end = code.indexOf(close, i + open.length);
          const stop = end < 0 ? n : end + close.length;
          push('com', code.slice(i, stop));
          i = stop;
          continue outer;
        }
      }
      for (const marker of spec.line) {
        if (code.startsWith(marker, i)) {
          const end = code.indexOf('\n', i);
          const stop = end < 0 ? n : end;
          push('com', code.slice(i, stop));
          i = stop;
          continue outer;
        }
      }
      let start = i;
      if (spec.prefixes) {
        const m = spec.prefixes.exec(code.slice(i, i + 3));
        if (m && !/[\w$]/.test(code[i - 1] || '')) start = i + m[0].length;
      }
      for (const quote of spec.quotes) {
        if (code.startsWith(quote, start)) {
          let j = start + quote.length;
          while (j < n) {
            if (code[j] === '\\' && quote !== '`') { j += 2; continue; }
            if (code.startsWith(quote, j)) { j += quote.length; break; }
            if (code[j] === '\n' && quote.length === 1 && quote !== '`') break;
            j += 1;
          }
          push('str', code.slice(i, Math.min(j, n)));
          i = Math.min(j, n);
          continue outer;
        }
      }
      const ch = code[i];
      const prev = code[i - 1] || '';
      if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(code[i + 1] || ''))) {
        if (!/[\w$]/.test(prev)) {
          const m = NUMBER.exec(code.slice(i));
          if (m && m[0]) { push('num', m[0]); i += m[0].length; continue; }
        }
      }
      const id = IDENT.exec(code.slice(i, i + 200));
      if (id && !/[\w$]/.test(prev)) {
        const word = id[0];
        const probe = spec.caseInsensitive ? word.toLowerCase() : word;
        if (spec.keywords.has(probe)) push('kw', word);
        else if (spec.literals.has(probe)) push('lit', word);
        else if (/^\s*\(/.test(code.slice(i + word.length, i + word.length + 20))) push('fn', word);
        else plain += word;
        i += word.length;
        continue;
      }
      plain += ch;
      i += 1;
    }
    flush();
    return out;
  }

  // A <code> element with the highlighted code of `langName`.
  function highlight(code, langName) {
    const el = document.createElement('code');
    const lang = languageOf(langName);
    el.className = 'code lang-' + lang;
    for (const [kind, text] of tokenize(code, langName)) {
      if (!kind) {
        el.appendChild(document.createTextNode(text));
      } else {
        const span = document.createElement('span');
        span.className = 'tok-' + kind;
        span.textContent = text;
        el.appendChild(span);
      }
    }
    return el;
  }

  window.QuizHighlight = { highlight, tokenize, languageOf };
})();
