/*!
 * ExampleX Support chat widget.
 *
 * Plain ES2020, no dependencies, no build step. Works in two modes:
 *   - page mode:  <script src="/widget.js" data-mode="page"></script>
 *                 renders the chat full-window (light DOM, styled by widget.css
 *                 loaded by the page itself).
 *   - embed mode: <script src="https://helpdesk.host/widget.js" async></script>
 *                 renders a floating launcher + chat panel inside a Shadow DOM;
 *                 loads widget.css from the script's own location.
 *
 * Optional attributes on the <script> tag:
 *   data-mode="page"         full-page mode (default: embed)
 *   data-api="https://..."   API base URL (default: origin of the script's src)
 *   data-lang="zh"|"en"      initial UI language (default: saved choice, then navigator.language)
 *   data-mount="#selector"   page mode: element to render into (default: #examplex-helpdesk or <body>)
 *   data-open="true"         embed mode: open the panel immediately
 *
 * All server-provided text is inserted with textContent / DOM nodes, never innerHTML.
 */
(function () {
  'use strict';

  if (window.__examplexHelpdeskLoaded) return;
  window.__examplexHelpdeskLoaded = true;

  // ---------------------------------------------------------------------------
  // Configuration
  // ---------------------------------------------------------------------------

  var STORAGE_KEY = 'examplex-helpdesk';
  var LANG_KEY = 'examplex-helpdesk-lang';
  var MAX_CHARS = 4000;
  var COUNTER_THRESHOLD = 3500; // show the counter once the text gets near the limit
  var POLL_MS = 3000;
  var SEND_TIMEOUT_MS = 90000;
  var POLL_TIMEOUT_MS = 20000;

  var script =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll('script[src]');
      for (var i = all.length - 1; i >= 0; i--) {
        if (/\/widget\.js(?:[?#]|$)/.test(all[i].src)) return all[i];
      }
      return null;
    })();

  var attr = function (name) {
    return script ? script.getAttribute(name) : null;
  };

  var MODE = attr('data-mode') === 'page' ? 'page' : 'embed';
  var scriptUrl = (function () {
    try {
      return new URL(script && script.src ? script.src : window.location.href, window.location.href);
    } catch (e) {
      return new URL(window.location.href);
    }
  })();
  var API_BASE = (function () {
    var a = attr('data-api');
    if (a) {
      try {
        return new URL(a, window.location.href).href.replace(/\/+$/, '');
      } catch (e) {
        /* fall through */
      }
    }
    return scriptUrl.origin;
  })();
  var CSS_URL = new URL('widget.css', scriptUrl).href;

  // ---------------------------------------------------------------------------
  // Strings
  // ---------------------------------------------------------------------------

  var STRINGS = {
    en: {
      title: 'ExampleX Support',
      subtitle: 'AI assistant + live agents',
      subtitleEscalated: 'Waiting for a human agent…',
      subtitleClosed: 'Conversation ended',
      safety: 'Support never asks for your password, 2FA codes, recovery phrase or private keys.',
      verify: 'Verify a channel',
      verifyLabel: 'Is this handle, link, e-mail or phone number official?',
      verifyPlaceholder: '@handle, https://…, e-mail or phone',
      verifyCheck: 'Check',
      inputLabel: 'Your message',
      placeholder: 'Type your question…',
      send: 'Send',
      human: 'Talk to a human',
      transcript: 'Transcript',
      transcriptSoon: 'Transcript download is coming soon.',
      transcriptReady: 'Transcript downloaded.',
      source: 'Source: ',
      sourceOpen: ' (',
      sourceClose: ')',
      sources: 'Sources',
      typing: 'Support is typing…',
      connecting: 'Connecting…',
      errorGeneric: 'Sorry, something went wrong. Please try again.',
      errorNetwork: "We couldn't reach the support server. Please check your connection and try again.",
      errorTimeout: 'The server is taking too long to respond. Please try again.',
      retry: 'Retry',
      dismiss: 'Dismiss',
      bot: 'ExampleX Assistant',
      agent: 'Support agent',
      you: 'You',
      system: 'Notice',
      notSent: 'Not sent',
      sending: 'Sending…',
      open: 'Open ExampleX support chat',
      close: 'Close chat',
      switchLang: '切换到中文',
      counter: function (n) {
        return n + ' / ' + MAX_CHARS;
      },
      closed: 'This conversation has ended.',
      newConversation: 'Start a new conversation',
      expired: 'Your previous conversation has expired, so a new one has been started.',
      urgent: 'Urgent',
      unread: function (n) {
        return n === 1 ? '1 new message' : n + ' new messages';
      },
      messages: 'Conversation',
    },
    zh: {
      title: 'ExampleX 客服',
      subtitle: '智能助手 · 可转人工',
      subtitleEscalated: '正在等待人工客服…',
      subtitleClosed: '对话已结束',
      safety: '客服绝不会索要您的密码、验证码、助记词或私钥。',
      verify: '核实官方渠道',
      verifyLabel: '这个账号、链接、邮箱或电话是官方的吗？',
      verifyPlaceholder: '@账号、https://…、邮箱或电话',
      verifyCheck: '核实',
      inputLabel: '您的消息',
      placeholder: '请输入您的问题…',
      send: '发送',
      human: '转人工',
      transcript: '聊天记录',
      transcriptSoon: '聊天记录下载功能即将上线。',
      transcriptReady: '聊天记录已下载。',
      source: '来源：',
      sourceOpen: '（',
      sourceClose: '）',
      sources: '参考来源',
      typing: '客服正在输入…',
      connecting: '正在连接…',
      errorGeneric: '抱歉，出现了一点问题，请重试。',
      errorNetwork: '无法连接客服服务器，请检查网络后重试。',
      errorTimeout: '服务器响应超时，请重试。',
      retry: '重试',
      dismiss: '关闭',
      bot: 'ExampleX 智能助手',
      agent: '人工客服',
      you: '您',
      system: '通知',
      notSent: '未发送',
      sending: '发送中…',
      open: '打开 ExampleX 在线客服',
      close: '关闭对话',
      switchLang: 'Switch to English',
      counter: function (n) {
        return n + ' / ' + MAX_CHARS;
      },
      closed: '本次对话已结束。',
      newConversation: '开始新对话',
      expired: '之前的对话已失效，已为您开始新的对话。',
      urgent: '加急',
      unread: function (n) {
        return n + ' 条新消息';
      },
      messages: '对话内容',
    },
  };

  // ---------------------------------------------------------------------------
  // Storage (localStorage may be unavailable: sandboxed iframes, privacy modes)
  // ---------------------------------------------------------------------------

  var memoryStore = {};
  var store = {
    get: function (k) {
      try {
        return window.localStorage.getItem(k);
      } catch (e) {
        return Object.prototype.hasOwnProperty.call(memoryStore, k) ? memoryStore[k] : null;
      }
    },
    set: function (k, v) {
      try {
        window.localStorage.setItem(k, v);
      } catch (e) {
        memoryStore[k] = v;
      }
    },
    remove: function (k) {
      try {
        window.localStorage.removeItem(k);
      } catch (e) {
        /* ignore */
      }
      delete memoryStore[k];
    },
  };

  function loadConversation() {
    try {
      var v = JSON.parse(store.get(STORAGE_KEY) || 'null');
      if (v && typeof v.id === 'string' && typeof v.token === 'string') {
        return { id: v.id, token: v.token, lastSeq: typeof v.lastSeq === 'number' ? v.lastSeq : 0 };
      }
    } catch (e) {
      /* corrupt entry */
    }
    return null;
  }

  function saveConversation() {
    if (!state.conv) {
      store.remove(STORAGE_KEY);
      return;
    }
    store.set(
      STORAGE_KEY,
      JSON.stringify({ id: state.conv.id, token: state.conv.token, lastSeq: state.lastSeq })
    );
  }

  function detectLanguage() {
    var forced = attr('data-lang');
    if (forced === 'zh' || forced === 'en') return forced;
    var saved = store.get(LANG_KEY);
    if (saved === 'zh' || saved === 'en') return saved;
    var langs = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]) || [];
    return /^zh/i.test(String(langs[0] || '')) ? 'zh' : 'en';
  }

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------

  var state = {
    lang: detectLanguage(),
    conv: null, // { id, token }
    lastSeq: 0,
    convState: null, // 'bot' | 'escalated' | 'closed'
    starting: null, // Promise while creating / resuming a conversation
    sending: false,
    polling: false,
    open: MODE === 'page',
    unread: 0,
    retry: null, // function to call from the error area's Retry button
    seqEls: new Map(), // seq -> <li>
    notice: null, // { key } localised notice currently shown in the error/notice area
  };

  function t(key) {
    return STRINGS[state.lang][key];
  }

  // ---------------------------------------------------------------------------
  // DOM helpers
  // ---------------------------------------------------------------------------

  function h(tag, props, children) {
    var el = document.createElement(tag);
    if (props) {
      for (var k in props) {
        if (!Object.prototype.hasOwnProperty.call(props, k)) continue;
        var v = props[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    if (children) {
      for (var i = 0; i < children.length; i++) {
        var c = children[i];
        if (c === null || c === undefined || c === false) continue;
        el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
      }
    }
    return el;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function icon(paths, size, cls) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    if (cls) svg.setAttribute('class', cls);
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', String(size || 20));
    svg.setAttribute('height', String(size || 20));
    svg.setAttribute('fill', 'none');
    svg.setAttribute('stroke', 'currentColor');
    svg.setAttribute('stroke-width', '2');
    svg.setAttribute('stroke-linecap', 'round');
    svg.setAttribute('stroke-linejoin', 'round');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    paths.forEach(function (d) {
      var p = document.createElementNS(SVG_NS, 'path');
      p.setAttribute('d', d);
      svg.appendChild(p);
    });
    return svg;
  }
  var ICONS = {
    chat: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z'],
    close: ['M18 6 6 18', 'M6 6l12 12'],
    send: ['M22 2 11 13', 'M22 2l-7 20-4-9-9-4 20-7z'],
    shield: ['M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z'],
    human: ['M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2', 'M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z'],
    doc: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6', 'M8 13h8', 'M8 17h8'],
    book: ['M4 19.5A2.5 2.5 0 0 1 6.5 17H20', 'M6.5 2H20v20H6.5A2.5 2.5 0 0 1 4 19.5v-15A2.5 2.5 0 0 1 6.5 2z'],
  };

  // Minimal, safe Markdown-ish rendering: paragraphs, line breaks, bullet and
  // numbered lists, **bold**, *italic*, `code`, [text](https://…) and bare http(s) URLs.
  // Everything is built as DOM nodes; no HTML from the server is ever parsed.
  var INLINE_RE =
    /\*\*([^*\n]+?)\*\*|__([^_\n]+?)__|`([^`\n]+)`|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"'()（）\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+)|(?<![\w*])\*(?![\s*])([^*\n]*?[^\s*])\*(?![\w*])/g;

  function safeHref(raw) {
    try {
      var u = new URL(raw);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
    } catch (e) {
      /* invalid */
    }
    return null;
  }

  function link(text, url) {
    var href = safeHref(url);
    if (!href) return document.createTextNode(text);
    return h('a', { href: href, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'exh-link', text: text });
  }

  function appendInline(parent, text, allowBold) {
    var last = 0;
    var m;
    var re = new RegExp(INLINE_RE.source, 'g');
    while ((m = re.exec(text))) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined || m[2] !== undefined) {
        var inner = m[1] !== undefined ? m[1] : m[2];
        if (allowBold) {
          var strong = h('strong');
          appendInline(strong, inner, false);
          parent.appendChild(strong);
        } else {
          parent.appendChild(document.createTextNode(inner));
        }
      } else if (m[3] !== undefined) {
        parent.appendChild(h('code', { class: 'exh-code', text: m[3] }));
      } else if (m[4] !== undefined) {
        parent.appendChild(link(m[4], m[5]));
      } else if (m[6] !== undefined) {
        var url = m[6];
        var trail = '';
        var tm = /[.,;:!?]+$/.exec(url);
        if (tm) {
          trail = tm[0];
          url = url.slice(0, -trail.length);
        }
        parent.appendChild(link(url, url));
        if (trail) parent.appendChild(document.createTextNode(trail));
      } else if (m[7] !== undefined) {
        var em = h('em');
        appendInline(em, m[7], false);
        parent.appendChild(em);
      }
      last = re.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderRichText(container, text) {
    var lines = String(text || '').replace(/\r\n?/g, '\n').split('\n');
    var para = null;
    var list = null;
    var lastItem = null;
    var BULLET = /^\s*(?:[-*+•·])\s+(.*)$/;
    var NUMBER = /^\s*(\d{1,3})(?:[.)]\s+|、\s*)(.*)$/;
    var HEADING = /^\s{0,3}#{1,6}\s+(.*)$/;

    function endBlocks() {
      para = null;
      list = null;
      lastItem = null;
    }

    lines.forEach(function (line) {
      if (/^\s*$/.test(line)) {
        endBlocks();
        return;
      }
      var bm = BULLET.exec(line);
      var nm = bm ? null : NUMBER.exec(line);
      if (bm || nm) {
        var tag = bm ? 'ul' : 'ol';
        if (!list || list.tagName.toLowerCase() !== tag) {
          para = null;
          list = h(tag, { class: 'exh-list' });
          if (nm && nm[1] !== '1') list.setAttribute('start', nm[1]);
          container.appendChild(list);
        }
        lastItem = h('li');
        appendInline(lastItem, bm ? bm[1] : nm[2], true);
        list.appendChild(lastItem);
        return;
      }
      if (list && lastItem && /^\s{2,}\S/.test(line)) {
        // indented continuation of a list item
        lastItem.appendChild(h('br'));
        appendInline(lastItem, line.trim(), true);
        return;
      }
      list = null;
      lastItem = null;
      var hm = HEADING.exec(line);
      if (hm) {
        para = null;
        var p = h('p', { class: 'exh-p exh-heading' });
        var s = h('strong');
        appendInline(s, hm[1], false);
        p.appendChild(s);
        container.appendChild(p);
        return;
      }
      if (!para) {
        para = h('p', { class: 'exh-p' });
        container.appendChild(para);
      } else {
        para.appendChild(h('br'));
      }
      appendInline(para, line, true);
    });
  }

  // ---------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------

  function ApiError(status, code, message) {
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.token) headers['Authorization'] = 'Bearer ' + opts.token;
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctrl
      ? setTimeout(function () {
          ctrl.abort();
        }, opts.timeout || SEND_TIMEOUT_MS)
      : null;
    return fetch(API_BASE + path, {
      method: method,
      headers: headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
      signal: ctrl ? ctrl.signal : undefined,
    })
      .then(
        function (res) {
          if (opts.raw) return res;
          return res.text().then(function (txt) {
            var data = null;
            if (txt) {
              try {
                data = JSON.parse(txt);
              } catch (e) {
                data = null;
              }
            }
            if (!res.ok) {
              var err = data && data.error ? data.error : {};
              throw new ApiError(
                res.status,
                typeof err.code === 'string' ? err.code : 'http_' + res.status,
                typeof err.message === 'string' && err.message ? err.message : null
              );
            }
            return data || {};
          });
        },
        function (e) {
          if (e && e.name === 'AbortError') throw new ApiError(0, 'timeout', null);
          throw new ApiError(0, 'network', null);
        }
      )
      .finally(function () {
        if (timer) clearTimeout(timer);
      });
  }

  function isGone(err) {
    return err && (err.status === 401 || err.status === 403 || err.status === 404);
  }

  function errorText(err) {
    if (err && err.message) return err.message;
    if (err && err.code === 'timeout') return t('errorTimeout');
    if (err && err.code === 'network') return t('errorNetwork');
    return t('errorGeneric');
  }

  // ---------------------------------------------------------------------------
  // UI construction
  // ---------------------------------------------------------------------------

  var ui = {};

  function build() {
    var root = h('div', {
      class: 'exh-root exh-' + MODE,
      'data-testid': 'helpdesk-root',
      'data-mode': MODE,
    });

    // Header ------------------------------------------------------------------
    ui.title = h('h2', { class: 'exh-title', id: 'exh-title' });
    ui.subtitle = h('p', { class: 'exh-subtitle', 'data-testid': 'status' });
    ui.langToggle = h(
      'button',
      {
        type: 'button',
        class: 'exh-lang',
        'data-testid': 'lang-toggle',
        onclick: function () {
          setLanguage(state.lang === 'zh' ? 'en' : 'zh', true);
        },
      },
      [
        h('span', { class: 'exh-lang-opt', 'data-lang': 'zh', lang: 'zh-CN', text: '中文' }),
        h('span', { class: 'exh-lang-sep', 'aria-hidden': 'true', text: '/' }),
        h('span', { class: 'exh-lang-opt', 'data-lang': 'en', lang: 'en', text: 'EN' }),
      ]
    );
    var headerActions = h('div', { class: 'exh-header-actions' }, [ui.langToggle]);
    if (MODE === 'embed') {
      ui.closeBtn = h(
        'button',
        {
          type: 'button',
          class: 'exh-icon-btn',
          'data-testid': 'close',
          onclick: function () {
            setOpen(false);
          },
        },
        [icon(ICONS.close, 18)]
      );
      headerActions.appendChild(ui.closeBtn);
    }
    var header = h('header', { class: 'exh-header' }, [
      h('div', { class: 'exh-avatar', 'aria-hidden': 'true' }, [icon(ICONS.chat, 20)]),
      h('div', { class: 'exh-heading-text' }, [ui.title, ui.subtitle]),
      headerActions,
    ]);

    ui.safety = h('p', { class: 'exh-safety-text', 'data-testid': 'safety-notice' });
    var safety = h('div', { class: 'exh-safety' }, [icon(ICONS.shield, 16), ui.safety]);

    // Anti-impersonation: the official channels and an "is this official?" check (POST /api/verify-channel).
    ui.official = h('p', { class: 'exh-official', 'data-testid': 'official-channels' });
    ui.verifyLabel = h('label', { class: 'exh-verify-label', for: 'exh-verify-input' });
    ui.verifyInput = h('input', {
      id: 'exh-verify-input',
      class: 'exh-verify-input',
      'data-testid': 'verify-input',
      type: 'text',
      maxlength: '500',
      autocomplete: 'off',
    });
    ui.verifyBtn = h('button', { type: 'submit', class: 'exh-btn exh-btn-secondary', 'data-testid': 'verify-check' });
    ui.verifyResult = h('p', { class: 'exh-verify-result', 'data-testid': 'verify-result', role: 'status', hidden: true });
    ui.verifyForm = h(
      'form',
      {
        class: 'exh-verify',
        'data-testid': 'verify-form',
        novalidate: true,
        hidden: true,
        onsubmit: function (e) {
          e.preventDefault();
          verifyChannel();
        },
      },
      [ui.official, ui.verifyLabel, h('div', { class: 'exh-verify-row' }, [ui.verifyInput, ui.verifyBtn]), ui.verifyResult]
    );

    // Messages ----------------------------------------------------------------
    ui.list = h('ol', {
      class: 'exh-messages',
      'data-testid': 'messages',
      role: 'log',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-atomic': 'false',
    });
    ui.typingText = h('span', { class: 'exh-sr' });
    ui.typing = h(
      'div',
      { class: 'exh-typing', 'data-testid': 'typing', role: 'status', hidden: true },
      [
        h('span', { class: 'exh-dots', 'aria-hidden': 'true' }, [h('i'), h('i'), h('i')]),
        ui.typingText,
      ]
    );
    ui.closedText = h('span');
    ui.newConvBtn = h('button', {
      type: 'button',
      class: 'exh-btn exh-btn-secondary',
      'data-testid': 'new-conversation',
      onclick: function () {
        startNewConversation(false);
      },
    });
    ui.closedBox = h('div', { class: 'exh-closed', 'data-testid': 'closed-notice', hidden: true }, [
      ui.closedText,
      ui.newConvBtn,
    ]);
    ui.scroller = h('div', { class: 'exh-scroller' }, [ui.list, ui.typing, ui.closedBox]);

    // Error / notice area -----------------------------------------------------
    ui.errorText = h('span', { class: 'exh-error-text', 'data-testid': 'error-text' });
    ui.retryBtn = h('button', {
      type: 'button',
      class: 'exh-link-btn',
      'data-testid': 'retry',
      onclick: function () {
        var fn = state.retry;
        clearError();
        if (fn) fn();
      },
    });
    ui.dismissBtn = h(
      'button',
      {
        type: 'button',
        class: 'exh-icon-btn exh-icon-btn-small',
        'data-testid': 'dismiss-error',
        onclick: clearError,
      },
      [icon(ICONS.close, 14)]
    );
    ui.error = h(
      'div',
      { class: 'exh-error', 'data-testid': 'error', role: 'alert', hidden: true },
      [ui.errorText, ui.retryBtn, ui.dismissBtn]
    );

    // Composer ----------------------------------------------------------------
    ui.inputLabel = h('label', { class: 'exh-sr', for: 'exh-input' });
    ui.input = h('textarea', {
      id: 'exh-input',
      class: 'exh-input',
      'data-testid': 'input',
      rows: '1',
      maxlength: String(MAX_CHARS),
      'aria-describedby': 'exh-counter',
      autocomplete: 'off',
      enterkeyhint: 'send',
    });
    ui.sendText = h('span', { class: 'exh-send-text' });
    ui.sendBtn = h(
      'button',
      { type: 'submit', class: 'exh-send', 'data-testid': 'send' },
      [icon(ICONS.send, 18), ui.sendText]
    );
    ui.humanText = h('span');
    ui.humanBtn = h(
      'button',
      {
        type: 'button',
        class: 'exh-tool',
        'data-testid': 'human',
        onclick: function () {
          sendAction('human', t('human'));
        },
      },
      [icon(ICONS.human, 16), ui.humanText]
    );
    ui.transcriptText = h('span');
    ui.transcriptBtn = h(
      'button',
      {
        type: 'button',
        class: 'exh-tool',
        'data-testid': 'transcript',
        onclick: downloadTranscript,
      },
      [icon(ICONS.doc, 16), ui.transcriptText]
    );
    ui.verifyToolText = h('span');
    ui.verifyToolBtn = h(
      'button',
      {
        type: 'button',
        class: 'exh-tool',
        'data-testid': 'verify',
        'aria-expanded': 'false',
        onclick: function () {
          toggleVerify();
        },
      },
      [icon(ICONS.shield, 16), ui.verifyToolText]
    );
    ui.counter = h('span', { class: 'exh-counter', id: 'exh-counter', 'data-testid': 'counter', 'aria-live': 'polite' });
    ui.form = h(
      'form',
      {
        class: 'exh-composer',
        novalidate: true,
        onsubmit: function (e) {
          e.preventDefault();
          sendText();
        },
      },
      [
        ui.inputLabel,
        h('div', { class: 'exh-input-row' }, [ui.input, ui.sendBtn]),
        h('div', { class: 'exh-tools' }, [ui.humanBtn, ui.transcriptBtn, ui.verifyToolBtn, h('span', { class: 'exh-spacer' }), ui.counter]),
      ]
    );

    ui.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
        // Do not send while an IME (e.g. Chinese pinyin) is composing.
        if (e.isComposing || e.keyCode === 229) return;
        e.preventDefault();
        sendText();
      }
    });
    ui.input.addEventListener('input', function () {
      autosize();
      updateComposer();
    });

    ui.panel = h(
      'section',
      {
        class: 'exh-panel',
        'data-testid': 'panel',
        role: MODE === 'embed' ? 'dialog' : 'region',
        'aria-labelledby': 'exh-title',
      },
      [header, safety, ui.verifyForm, ui.scroller, ui.error, ui.form]
    );
    root.appendChild(ui.panel);

    if (MODE === 'embed') {
      ui.badge = h('span', { class: 'exh-badge', 'data-testid': 'unread', hidden: true });
      ui.launcher = h(
        'button',
        {
          type: 'button',
          class: 'exh-launcher',
          'data-testid': 'launcher',
          'aria-expanded': 'false',
          onclick: function () {
            setOpen(!state.open);
          },
        },
        [icon(ICONS.chat, 26, 'exh-ico-chat'), icon(ICONS.close, 24, 'exh-ico-close'), ui.badge]
      );
      root.appendChild(ui.launcher);
      // Escape closes the panel when focus is inside the widget (or was lost to <body>).
      document.addEventListener('keydown', function (e) {
        if (e.key !== 'Escape' || !state.open) return;
        var active = document.activeElement;
        if (active !== ui.host && active !== document.body && active !== null) return;
        setOpen(false);
        ui.launcher.focus();
      });
    }

    ui.root = root;
    applyStrings();
    updateComposer();
    return root;
  }

  function toggleVerify() {
    var show = ui.verifyForm.hidden;
    ui.verifyForm.hidden = !show;
    ui.verifyToolBtn.setAttribute('aria-expanded', show ? 'true' : 'false');
    if (show) {
      loadOfficialChannels();
      ui.verifyInput.focus();
    }
  }

  function loadOfficialChannels() {
    api('GET', '/api/official-channels?language=' + state.lang).then(
      function (data) {
        ui.official.textContent = typeof data.message === 'string' ? data.message : '';
      },
      function () {
        ui.official.textContent = '';
      }
    );
  }

  function verifyChannel() {
    var input = ui.verifyInput.value.trim();
    if (!input) return;
    ui.verifyBtn.disabled = true;
    api('POST', '/api/verify-channel', { input: input, language: state.lang })
      .then(
        function (data) {
          ui.verifyResult.textContent = data.message || '';
          ui.verifyResult.setAttribute('data-official', data.official ? 'true' : 'false');
        },
        function (err) {
          ui.verifyResult.textContent = errorText(err);
          ui.verifyResult.removeAttribute('data-official');
        }
      )
      .finally(function () {
        ui.verifyResult.hidden = false;
        ui.verifyBtn.disabled = false;
      });
  }

  function applyStrings() {
    var root = ui.root;
    root.setAttribute('lang', state.lang === 'zh' ? 'zh-CN' : 'en');
    root.setAttribute('data-lang', state.lang);
    if (MODE === 'page') {
      document.documentElement.setAttribute('lang', state.lang === 'zh' ? 'zh-CN' : 'en');
      document.title = t('title');
    }
    ui.title.textContent = t('title');
    updateSubtitle();
    ui.safety.textContent = t('safety');
    ui.list.setAttribute('aria-label', t('messages'));
    ui.typingText.textContent = t('typing');
    ui.closedText.textContent = t('closed');
    ui.newConvBtn.textContent = t('newConversation');
    ui.retryBtn.textContent = t('retry');
    ui.dismissBtn.setAttribute('aria-label', t('dismiss'));
    ui.dismissBtn.setAttribute('title', t('dismiss'));
    ui.inputLabel.textContent = t('inputLabel');
    ui.input.setAttribute('placeholder', t('placeholder'));
    ui.sendText.textContent = t('send');
    ui.sendBtn.setAttribute('aria-label', t('send'));
    ui.humanText.textContent = t('human');
    ui.transcriptText.textContent = t('transcript');
    ui.verifyToolText.textContent = t('verify');
    ui.verifyLabel.textContent = t('verifyLabel');
    ui.verifyInput.setAttribute('placeholder', t('verifyPlaceholder'));
    ui.verifyBtn.textContent = t('verifyCheck');
    if (!ui.verifyForm.hidden) loadOfficialChannels();
    ui.langToggle.setAttribute('aria-label', t('switchLang'));
    ui.langToggle.setAttribute('title', t('switchLang'));
    ui.langToggle.setAttribute('data-lang', state.lang);
    Array.prototype.forEach.call(ui.langToggle.querySelectorAll('.exh-lang-opt'), function (s) {
      s.classList.toggle('exh-active', s.getAttribute('data-lang') === state.lang);
    });
    if (ui.closeBtn) {
      ui.closeBtn.setAttribute('aria-label', t('close'));
      ui.closeBtn.setAttribute('title', t('close'));
    }
    if (ui.launcher) {
      ui.launcher.setAttribute('aria-label', t('open'));
      ui.launcher.setAttribute('title', t('open'));
      updateBadge();
    }
    // Re-localise the chrome of rendered messages (author labels, "Source:" prefix).
    Array.prototype.forEach.call(ui.list.querySelectorAll('[data-i18n]'), function (el) {
      var key = el.getAttribute('data-i18n');
      if (key === 'source') {
        el.textContent = t('source');
      } else if (key === 'source-open') {
        el.textContent = t('sourceOpen');
      } else if (key === 'source-close') {
        el.textContent = t('sourceClose');
      } else if (STRINGS[state.lang][key] && typeof STRINGS[state.lang][key] === 'string') {
        el.textContent = t(key);
      }
    });
    if (state.notice) ui.errorText.textContent = t(state.notice);
    updateComposer();
  }

  function updateSubtitle() {
    var key = 'subtitle';
    if (state.convState === 'escalated') key = 'subtitleEscalated';
    else if (state.convState === 'closed') key = 'subtitleClosed';
    else if (state.starting && !state.conv) key = 'connecting';
    ui.subtitle.textContent = t(key);
    if (ui.root) ui.root.setAttribute('data-state', state.convState || 'none');
  }

  function autosize() {
    var el = ui.input;
    el.style.height = 'auto';
    var max = 140;
    el.style.height = Math.min(el.scrollHeight, max) + 'px';
    el.style.overflowY = el.scrollHeight > max ? 'auto' : 'hidden';
  }

  function updateComposer() {
    var len = ui.input.value.length;
    var closed = state.convState === 'closed';
    ui.sendBtn.disabled = state.sending || closed || ui.input.value.trim().length === 0 || len > MAX_CHARS;
    ui.sendBtn.setAttribute('aria-busy', state.sending ? 'true' : 'false');
    ui.humanBtn.disabled = state.sending || closed;
    ui.input.disabled = closed;
    ui.closedBox.hidden = !closed;
    if (len >= COUNTER_THRESHOLD) {
      ui.counter.hidden = false;
      ui.counter.textContent = t('counter')(len);
      ui.counter.classList.toggle('exh-counter-max', len >= MAX_CHARS);
    } else {
      ui.counter.hidden = true;
      ui.counter.textContent = '';
    }
    // Action buttons follow the same busy state.
    Array.prototype.forEach.call(ui.list.querySelectorAll('[data-testid="action"]'), function (b) {
      b.disabled = state.sending || closed || b.getAttribute('data-used') === 'true';
    });
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    if (on) scrollToBottom(true);
  }

  function showError(message, retryFn) {
    state.notice = null;
    state.retry = retryFn || null;
    ui.errorText.textContent = message;
    ui.retryBtn.hidden = !retryFn;
    ui.error.hidden = false;
    ui.error.classList.remove('exh-info');
    ui.error.setAttribute('data-kind', 'error');
  }

  // A localised, non-error notice shown in the same area (e.g. "coming soon").
  function showNotice(key) {
    state.retry = null;
    state.notice = key;
    ui.errorText.textContent = t(key);
    ui.retryBtn.hidden = true;
    ui.error.hidden = false;
    ui.error.classList.add('exh-info');
    ui.error.setAttribute('data-kind', 'info');
  }

  function clearError() {
    state.retry = null;
    state.notice = null;
    ui.error.hidden = true;
    ui.errorText.textContent = '';
  }

  function isNearBottom() {
    var s = ui.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  function scrollToBottom(force) {
    var s = ui.scroller;
    if (force || isNearBottom()) {
      // after layout
      requestAnimationFrame(function () {
        s.scrollTop = s.scrollHeight;
      });
    }
  }

  // ---------------------------------------------------------------------------
  // Rendering turns
  // ---------------------------------------------------------------------------

  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    try {
      return d.toLocaleTimeString(state.lang === 'zh' ? 'zh-CN' : 'en', { hour: '2-digit', minute: '2-digit' });
    } catch (e) {
      return '';
    }
  }

  function metaLine(role, turn) {
    var meta = h('div', { class: 'exh-meta' });
    if (role === 'agent') {
      if (turn && typeof turn.author === 'string' && turn.author.trim()) {
        meta.appendChild(h('span', { class: 'exh-author', 'data-testid': 'author', text: turn.author.trim() }));
        meta.appendChild(h('span', { class: 'exh-author-role', 'data-i18n': 'agent', text: t('agent') }));
      } else {
        meta.appendChild(h('span', { class: 'exh-author', 'data-testid': 'author', 'data-i18n': 'agent', text: t('agent') }));
      }
    } else if (role === 'bot') {
      meta.appendChild(h('span', { class: 'exh-author', 'data-i18n': 'bot', text: t('bot') }));
    } else if (role === 'customer') {
      meta.appendChild(h('span', { class: 'exh-author exh-sr', 'data-i18n': 'you', text: t('you') }));
    }
    if (turn && turn.createdAt) {
      var time = formatTime(turn.createdAt);
      if (time) meta.appendChild(h('time', { class: 'exh-time', datetime: turn.createdAt, text: time }));
    }
    return meta;
  }

  function renderTurn(turn) {
    var role = ['customer', 'bot', 'system', 'agent'].indexOf(turn.role) >= 0 ? turn.role : 'system';
    var li = h('li', {
      class: 'exh-msg exh-msg-' + role,
      'data-testid': 'message',
      'data-role': role,
      'data-seq': String(turn.seq),
      lang: turn.language === 'zh' ? 'zh-CN' : turn.language === 'en' ? 'en' : null,
    });
    var text = typeof turn.text === 'string' ? turn.text : '';

    if (role === 'system') {
      var sys = h('div', { class: 'exh-system-text', 'data-testid': 'message-text' });
      renderRichText(sys, text);
      if (turn.escalation && typeof turn.escalation === 'object') {
        li.setAttribute('data-escalation', 'true');
        if (turn.escalation.priority) li.setAttribute('data-priority', String(turn.escalation.priority));
        if (turn.escalation.priority === 'urgent') {
          li.classList.add('exh-urgent');
          var tagHost = sys.querySelector('.exh-p') || sys;
          tagHost.insertBefore(
            h('span', { class: 'exh-tag', 'data-i18n': 'urgent', text: t('urgent') }),
            tagHost.firstChild
          );
        }
      }
      li.appendChild(sys);
      return li;
    }

    var bubble = h('div', { class: 'exh-bubble', 'data-testid': 'message-text' });
    if (role === 'customer') {
      bubble.classList.add('exh-plain');
      bubble.textContent = text;
    } else {
      renderRichText(bubble, text);
    }

    li.appendChild(metaLine(role, turn));
    li.appendChild(bubble);

    var citations = Array.isArray(turn.citations) ? turn.citations : [];
    if (citations.length && role !== 'customer') {
      var cl = h('ul', { class: 'exh-citations', 'data-testid': 'citations' });
      citations.forEach(function (c) {
        if (!c || typeof c !== 'object') return;
        var id = c.id == null ? '' : String(c.id);
        var title = c.title == null || c.title === '' ? id : String(c.title);
        cl.appendChild(
          h(
            'li',
            {
              class: 'exh-citation',
              'data-testid': 'citation',
              'data-citation-id': id,
              'data-version': c.version == null ? null : String(c.version),
            },
            [
              icon(ICONS.book, 13),
              h('span', { class: 'exh-citation-label', 'data-i18n': 'source', text: t('source') }),
              h('span', { class: 'exh-citation-title', text: title }),
              h('span', { 'data-i18n': 'source-open', text: t('sourceOpen') }),
              h('span', { class: 'exh-citation-id', text: id }),
              h('span', { 'data-i18n': 'source-close', text: t('sourceClose') }),
            ]
          )
        );
      });
      li.appendChild(cl);
    }

    var actions = Array.isArray(turn.actions) ? turn.actions : [];
    if (actions.length && role !== 'customer') {
      var row = h('div', { class: 'exh-actions', role: 'group' });
      actions.forEach(function (a) {
        if (!a || (a.id !== 'solved' && a.id !== 'human')) return;
        var label = typeof a.label === 'string' && a.label ? a.label : a.id === 'solved' ? 'OK' : t('human');
        var btn = h('button', {
          type: 'button',
          class: 'exh-action exh-action-' + a.id,
          'data-testid': 'action',
          'data-action': a.id,
          text: label,
        });
        btn.addEventListener('click', function () {
          if (btn.disabled) return;
          sendAction(a.id, label, btn);
        });
        row.appendChild(btn);
      });
      if (row.childNodes.length) li.appendChild(row);
    }
    return li;
  }

  function insertBySeq(li, seq) {
    // Keep server turns ordered by seq; optimistic (pending) messages stay last.
    var children = ui.list.children;
    for (var i = 0; i < children.length; i++) {
      var c = children[i];
      var cs = c.getAttribute('data-seq');
      if (c.hasAttribute('data-pending') || (cs !== null && cs !== '' && Number(cs) > seq)) {
        ui.list.insertBefore(li, c);
        return;
      }
    }
    ui.list.appendChild(li);
  }

  // Render turns from the server, de-duplicated by seq. Returns number of new
  // non-customer turns (for the unread badge).
  function applyTurns(turns, pendingEl, silent) {
    var added = 0;
    var stick = isNearBottom();
    (Array.isArray(turns) ? turns : []).forEach(function (turn) {
      if (!turn || typeof turn.seq !== 'number') return;
      if (state.seqEls.has(turn.seq)) return;
      var li = renderTurn(turn);
      // Replace the optimistic copy of the customer's own message.
      if (turn.role === 'customer') {
        var pend = pendingEl && pendingEl.parentNode ? pendingEl : findPendingByText(turn.text);
        if (pend && pend.parentNode) {
          pend.parentNode.removeChild(pend);
          if (pend === pendingEl) pendingEl = null;
        }
      } else {
        added++;
      }
      insertBySeq(li, turn.seq);
      state.seqEls.set(turn.seq, li);
      if (turn.seq > state.lastSeq) state.lastSeq = turn.seq;
    });
    saveConversation();
    scrollToBottom(stick);
    if (added && !silent && MODE === 'embed' && !state.open) {
      state.unread += added;
      updateBadge();
    }
    return added;
  }

  function findPendingByText(text) {
    var pending = ui.list.querySelectorAll('[data-pending="true"]');
    for (var i = 0; i < pending.length; i++) {
      if (pending[i].getAttribute('data-text') === String(text || '').trim()) return pending[i];
    }
    return null;
  }

  function addPending(text) {
    var li = h('li', {
      class: 'exh-msg exh-msg-customer exh-pending',
      'data-testid': 'message',
      'data-role': 'customer',
      'data-pending': 'true',
      'data-text': text.trim(),
    });
    li.appendChild(metaLine('customer', null));
    li.appendChild(h('div', { class: 'exh-bubble exh-plain', 'data-testid': 'message-text', text: text }));
    li.appendChild(h('div', { class: 'exh-status', 'data-i18n': 'sending', text: t('sending') }));
    ui.list.appendChild(li);
    scrollToBottom(true);
    return li;
  }

  function markFailed(li) {
    if (!li) return;
    li.classList.add('exh-failed');
    li.setAttribute('data-pending', 'failed');
    var st = li.querySelector('.exh-status');
    if (st) {
      st.setAttribute('data-i18n', 'notSent');
      st.textContent = t('notSent');
    }
  }

  function markSending(li) {
    if (!li) return;
    li.classList.remove('exh-failed');
    li.setAttribute('data-pending', 'true');
    var st = li.querySelector('.exh-status');
    if (st) {
      st.setAttribute('data-i18n', 'sending');
      st.textContent = t('sending');
    }
  }

  function addLocalNotice(key) {
    var li = h('li', { class: 'exh-msg exh-msg-system exh-local', 'data-testid': 'local-notice', 'data-role': 'local' }, [
      h('div', { class: 'exh-system-text', 'data-i18n': key, text: t(key) }),
    ]);
    // Shown above the (new) conversation's turns.
    ui.list.insertBefore(li, ui.list.firstChild);
  }

  function setConvState(s) {
    if (s === 'bot' || s === 'escalated' || s === 'closed') state.convState = s;
    updateSubtitle();
    updateComposer();
  }

  // Remove all rendered turns, but keep optimistic messages still being sent.
  function resetMessages() {
    Array.prototype.slice.call(ui.list.children).forEach(function (c) {
      if (!c.hasAttribute('data-pending')) ui.list.removeChild(c);
    });
    state.seqEls = new Map();
    state.lastSeq = 0;
  }

  // ---------------------------------------------------------------------------
  // Conversation lifecycle
  // ---------------------------------------------------------------------------

  function createConversation() {
    return api('POST', '/api/conversations', { language: state.lang }).then(function (data) {
      if (!data || typeof data.id !== 'string' || typeof data.token !== 'string') {
        throw new ApiError(0, 'bad_response', null);
      }
      state.conv = { id: data.id, token: data.token };
      state.lastSeq = 0;
      saveConversation();
      setConvState(data.state);
      applyTurns(data.turns, null, true);
    });
  }

  // Ensure we have a live conversation. Resumes the stored one (re-fetching all
  // turns with after=0) or creates a new one.
  function ensureConversation() {
    if (state.conv) return Promise.resolve();
    if (state.starting) return state.starting;
    var stored = loadConversation();
    var p;
    if (stored) {
      p = api('GET', '/api/conversations/' + encodeURIComponent(stored.id) + '/messages?after=0', undefined, {
        token: stored.token,
        timeout: POLL_TIMEOUT_MS,
      }).then(
        function (data) {
          state.conv = { id: stored.id, token: stored.token };
          resetMessages();
          setConvState(data.state);
          applyTurns(data.turns, null, true);
        },
        function (err) {
          if (isGone(err)) {
            store.remove(STORAGE_KEY);
            resetMessages();
            addLocalNotice('expired');
            return createConversation();
          }
          throw err;
        }
      );
    } else {
      p = createConversation();
    }
    state.starting = p.then(
      function () {
        state.starting = null;
        updateSubtitle();
        clearErrorIfStartup();
      },
      function (err) {
        state.starting = null;
        updateSubtitle();
        throw err;
      }
    );
    updateSubtitle();
    return state.starting;
  }

  var startupErrorShown = false;
  function clearErrorIfStartup() {
    if (startupErrorShown) {
      startupErrorShown = false;
      clearError();
    }
  }

  function start() {
    ensureConversation().catch(function (err) {
      startupErrorShown = true;
      showError(errorText(err), start);
    });
  }

  // Drop the current conversation and start a fresh one.
  function startNewConversation(expired) {
    state.conv = null;
    state.convState = null;
    store.remove(STORAGE_KEY);
    resetMessages();
    if (expired) addLocalNotice('expired');
    clearError();
    updateComposer();
    return ensureConversation().catch(function (err) {
      startupErrorShown = true;
      showError(errorText(err), start);
      throw err;
    });
  }

  // Serialise POSTs so messages / actions / language changes keep their order.
  var postQueue = Promise.resolve();
  function enqueue(fn) {
    var run = postQueue.then(fn, fn);
    postQueue = run.catch(function () {});
    return run;
  }

  // One key per message, kept across its retries: the server stores a message sent twice once.
  function newIdempotencyKey() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  function postMessage(body, attempt, idempotencyKey) {
    attempt = attempt || 0;
    return ensureConversation().then(function () {
      var conv = state.conv;
      var before = state.lastSeq;
      return api(
        'POST',
        '/api/conversations/' + encodeURIComponent(conv.id) + '/messages',
        body,
        { token: conv.token, idempotencyKey: idempotencyKey }
      ).then(
        function (data) {
          return { data: data, before: before };
        },
        function (err) {
          if (isGone(err) && attempt === 0 && state.conv === conv) {
            // The stored conversation is no longer valid: start a new one and resend once.
            return startNewConversation(true).then(function () {
              return postMessage(body, 1, idempotencyKey);
            });
          }
          throw err;
        }
      );
    });
  }

  function afterPost(result, pendingEl) {
    var data = result.data || {};
    var turns = Array.isArray(data.turns) ? data.turns : [];
    var minSeq = Infinity;
    turns.forEach(function (tn) {
      if (tn && typeof tn.seq === 'number' && tn.seq < minSeq) minSeq = tn.seq;
    });
    applyTurns(turns, pendingEl);
    if (pendingEl && pendingEl.parentNode) pendingEl.parentNode.removeChild(pendingEl);
    setConvState(data.state);
    // If turns were created by someone else (e.g. an agent) between our last
    // known seq and this response, fetch them now.
    if (minSeq !== Infinity && minSeq > result.before + 1) poll(result.before);
  }

  function sendText() {
    if (state.sending) return;
    var text = ui.input.value;
    if (!text.trim()) return;
    if (text.length > MAX_CHARS) {
      showError(t('counter')(text.length));
      return;
    }
    ui.input.value = '';
    autosize();
    var li = addPending(text);
    doSend({ text: text }, li);
    ui.input.focus();
  }

  function sendAction(action, label, btn) {
    if (state.sending) return;
    if (btn) {
      // Mark the clicked action (and its siblings) as used.
      Array.prototype.forEach.call(btn.parentNode.querySelectorAll('[data-testid="action"]'), function (b) {
        b.setAttribute('data-used', 'true');
      });
      btn.classList.add('exh-chosen');
    }
    var li = addPending(label);
    doSend({ action: action }, li, btn);
    // The clicked button is now disabled; keep keyboard focus in the widget.
    if (state.convState !== 'closed') ui.input.focus();
  }

  function doSend(payload, li, actionBtn, idempotencyKey) {
    var key = idempotencyKey || newIdempotencyKey();
    clearError();
    state.sending = true;
    updateComposer();
    setTyping(true);
    var body = {};
    if (payload.text !== undefined) body.text = payload.text;
    if (payload.action !== undefined) body.action = payload.action;
    // No language here: the server follows the language the customer writes in; only the toggle
    // (notifyLanguage) sends an explicit choice, which then sticks.
    enqueue(function () {
      return postMessage(body, 0, key);
    }).then(
      function (result) {
        state.sending = false;
        setTyping(false);
        afterPost(result, li);
        updateComposer();
      },
      function (err) {
        state.sending = false;
        setTyping(false);
        markFailed(li);
        if (actionBtn) {
          Array.prototype.forEach.call(actionBtn.parentNode.querySelectorAll('[data-testid="action"]'), function (b) {
            b.removeAttribute('data-used');
          });
          actionBtn.classList.remove('exh-chosen');
        }
        updateComposer();
        if (err && err.status === 409) setConvState('closed');
        showError(errorText(err), function () {
          if (state.sending) return;
          if (actionBtn && actionBtn.parentNode) {
            Array.prototype.forEach.call(actionBtn.parentNode.querySelectorAll('[data-testid="action"]'), function (b) {
              b.setAttribute('data-used', 'true');
            });
            actionBtn.classList.add('exh-chosen');
          }
          markSending(li);
          doSend(payload, li, actionBtn, key);
        });
      }
    );
  }

  function setLanguage(lang, byUser) {
    if (lang !== 'zh' && lang !== 'en') return;
    if (lang === state.lang) return;
    state.lang = lang;
    if (byUser) store.set(LANG_KEY, lang);
    applyStrings();
    if (byUser && state.conv) notifyLanguage();
  }

  // Tell the server about the language switch; render whatever turns it creates (usually none).
  function notifyLanguage() {
    var lang = state.lang;
    enqueue(function () {
      return postMessage({ language: lang });
    }).then(
      function (result) {
        afterPost(result, null);
      },
      function (err) {
        showError(errorText(err), notifyLanguage);
      }
    );
  }

  // ---------------------------------------------------------------------------
  // Polling for agent replies
  // ---------------------------------------------------------------------------

  function shouldPoll() {
    if (!state.conv || state.starting) return false;
    if (document.visibilityState === 'hidden') return false;
    if (state.convState === 'closed') return false;
    if (MODE === 'embed' && !state.open && state.convState !== 'escalated') return false;
    return true;
  }

  function poll(afterOverride) {
    var forced = typeof afterOverride === 'number';
    if (!forced && (state.polling || state.sending || !shouldPoll())) return;
    if (!state.conv) return;
    var conv = state.conv;
    var after = forced ? afterOverride : state.lastSeq;
    state.polling = true;
    api('GET', '/api/conversations/' + encodeURIComponent(conv.id) + '/messages?after=' + after, undefined, {
      token: conv.token,
      timeout: POLL_TIMEOUT_MS,
    }).then(
      function (data) {
        state.polling = false;
        if (state.conv !== conv) return;
        applyTurns(data.turns);
        setConvState(data.state);
        if (startupErrorShown) clearErrorIfStartup();
      },
      function (err) {
        state.polling = false;
        if (state.conv !== conv) return;
        if (isGone(err) && !state.sending) {
          startNewConversation(true).catch(function () {});
        }
        // Other errors: stay quiet and try again on the next tick.
      }
    );
  }

  // ---------------------------------------------------------------------------
  // Transcript
  // ---------------------------------------------------------------------------

  function downloadTranscript() {
    ensureConversation()
      .then(function () {
        var conv = state.conv;
        return api('GET', '/api/conversations/' + encodeURIComponent(conv.id) + '/transcript', undefined, {
          token: conv.token,
          raw: true,
          timeout: POLL_TIMEOUT_MS,
        }).then(function (res) {
          if (res.status === 404 || res.status === 405 || res.status === 501) {
            showNotice('transcriptSoon');
            return;
          }
          if (!res.ok) {
            return res.text().then(function (txt) {
              var msg = null;
              try {
                var d = JSON.parse(txt);
                msg = d && d.error && typeof d.error.message === 'string' ? d.error.message : null;
              } catch (e) {
                /* not JSON */
              }
              showError(msg || t('errorGeneric'), downloadTranscript);
            });
          }
          var type = (res.headers.get('Content-Type') || 'text/plain').split(';')[0].trim().toLowerCase();
          var ext = /html/.test(type) ? 'html' : /json/.test(type) ? 'json' : /pdf/.test(type) ? 'pdf' : /markdown/.test(type) ? 'md' : 'txt';
          var name = 'examplex-transcript-' + conv.id.replace(/[^A-Za-z0-9_-]/g, '') + '.' + ext;
          var cd = res.headers.get('Content-Disposition');
          var m = cd && /filename="?([^";]+)"?/i.exec(cd);
          if (m) name = m[1].replace(/[\\/]/g, '_');
          return res.blob().then(function (blob) {
            var url = URL.createObjectURL(blob);
            var a = h('a', { href: url, download: name, style: 'display:none' });
            ui.root.appendChild(a);
            a.click();
            ui.root.removeChild(a);
            setTimeout(function () {
              URL.revokeObjectURL(url);
            }, 60000);
            showNotice('transcriptReady');
          });
        });
      })
      .catch(function (err) {
        showError(errorText(err), downloadTranscript);
      });
  }

  // ---------------------------------------------------------------------------
  // Embed: open / close
  // ---------------------------------------------------------------------------

  function updateBadge() {
    if (!ui.badge) return;
    if (state.unread > 0) {
      ui.badge.hidden = false;
      ui.badge.textContent = state.unread > 9 ? '9+' : String(state.unread);
      ui.launcher.setAttribute('aria-label', t('open') + ' (' + t('unread')(state.unread) + ')');
    } else {
      ui.badge.hidden = true;
      ui.badge.textContent = '';
      ui.launcher.setAttribute('aria-label', t('open'));
    }
  }

  function setOpen(open) {
    state.open = !!open;
    if (MODE !== 'embed') return;
    ui.root.classList.toggle('exh-open', state.open);
    ui.panel.hidden = !state.open;
    ui.launcher.setAttribute('aria-expanded', state.open ? 'true' : 'false');
    if (state.open) {
      state.unread = 0;
      updateBadge();
      start();
      poll();
      scrollToBottom(true);
      setTimeout(function () {
        try {
          ui.input.focus({ preventScroll: true });
        } catch (e) {
          ui.input.focus();
        }
      }, 30);
    }
  }

  // ---------------------------------------------------------------------------
  // Mount
  // ---------------------------------------------------------------------------

  function mount() {
    var root = build();
    if (MODE === 'page') {
      var sel = attr('data-mount');
      var target = (sel && document.querySelector(sel)) || document.getElementById('examplex-helpdesk') || document.body;
      target.appendChild(root);
      autosize();
      start();
      ui.input.focus();
    } else {
      var host = document.createElement('div');
      ui.host = host;
      host.id = 'examplex-helpdesk-widget';
      host.setAttribute('data-testid', 'helpdesk-host');
      var shadow = host.attachShadow ? host.attachShadow({ mode: 'open' }) : null;
      var container = shadow || host;
      // Stay invisible until our stylesheet is loaded (no flash of unstyled content).
      root.style.visibility = 'hidden';
      var shown = false;
      var reveal = function () {
        if (shown) return;
        shown = true;
        root.style.visibility = '';
      };
      var css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = CSS_URL;
      css.addEventListener('load', reveal);
      css.addEventListener('error', reveal);
      setTimeout(reveal, 4000);
      container.appendChild(css);
      container.appendChild(root);
      document.body.appendChild(host);
      ui.panel.hidden = true;
      var stored = loadConversation();
      if (attr('data-open') === 'true') setOpen(true);
      else if (stored) {
        // Resume quietly so agent replies can raise the unread badge.
        start();
      }
      window.ExampleXHelpdesk = {
        open: function () {
          setOpen(true);
        },
        close: function () {
          setOpen(false);
        },
        toggle: function () {
          setOpen(!state.open);
        },
      };
    }

    setInterval(poll, POLL_MS);
    window.addEventListener('focus', function () {
      poll();
    });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') poll();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
})();
