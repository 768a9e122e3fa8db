// xacct console: the single-page app served by `xacct console`. Vanilla JS (ES2020), no
// build step, no dependencies, nothing loaded from outside this origin.
//
// It talks only to the console server, same origin:
//   GET  /api/setup
//   GET  /api/list-accounts              (an organization hub only: the account picker)
//   GET  /api/list-resources?service=&region=&limit=&cursor=&account_id=
//   GET  /api/list-permissions?arn=
//   POST /api/create-owner-role          (JSON)
//   POST /api/create-requestor-resources (JSON)
//   GET  /api/list-grants?resource_arn=&requestor_account_id=&cursor=&account_id=
//   POST /api/check-owner-role           (JSON)
//   POST /api/check-requestor-role       (JSON)
//   POST /api/revoke-grant               (JSON)
// In a hub, every owner call but list-permissions carries the picked member's `account_id`.
// Errors are {"error": {"code", "message", "field"?, "retryable"?}} with a 4xx/5xx status.
'use strict';

(() => {
  // ---------------------------------------------------------------- helpers
  const $ = (id) => document.getElementById(id);

  /** Creates an element; attrs: props/attributes, `dataset`, `on*` handlers. Text is never HTML. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** Replaces an element's children; arrays are flattened, empty values skipped. */
  function fill(el, ...children) {
    el.replaceChildren(...children.flat(3).filter((c) => c !== undefined && c !== null && c !== false && c !== ''));
    return el;
  }

  /** Text whose `backticked` parts show as code, as the functions' messages write them (never as HTML). */
  function codeText(text) {
    const parts = String(text ?? '').split('`');
    if (parts.length % 2 === 0) return [parts.join('`')];
    return parts.map((p, i) => (i % 2 ? h('code', {}, p) : p)).filter((p) => p !== '');
  }

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  /** Pretty-printed, syntax-highlighted JSON as HTML (every piece escaped). */
  function highlightJson(value) {
    const json = JSON.stringify(value, null, 2) ?? 'null';
    const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([{}[\],])/g;
    let out = '';
    let last = 0;
    let m;
    while ((m = re.exec(json))) {
      out += esc(json.slice(last, m.index));
      if (m[1]) {
        if (m[2]) out += `<span class="j-key">${esc(m[1])}</span>${esc(m[2])}`;
        else out += `<span class="${/^"(arn:|\*")/.test(m[1]) ? 'j-arn' : 'j-str'}">${esc(m[1])}</span>`;
      } else if (m[3]) out += `<span class="j-lit">${m[3]}</span>`;
      else if (m[4]) out += `<span class="j-num">${m[4]}</span>`;
      else out += `<span class="j-pun">${esc(m[5])}</span>`;
      last = re.lastIndex;
    }
    return out + esc(json.slice(last));
  }

  class ApiError extends Error {
    constructor(status, err) {
      super(err.message);
      this.status = status;
      this.code = err.code;
      this.field = err.field || null;
      this.retryable = !!err.retryable;
    }
  }

  /** Calls the console server; resolves to the JSON body or throws an ApiError (never a raw failure). */
  async function api(method, path, body) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 120000);
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (e) {
      clearTimeout(timer);
      if (e && e.name === 'AbortError') throw new ApiError(0, { code: 'Timeout', message: 'The console server did not answer within 2 minutes.' });
      throw new ApiError(0, { code: 'ConsoleUnreachable', message: 'Could not reach the xacct console server. Is `xacct console` still running?' });
    }
    let text = '';
    try { text = await res.text(); } catch { text = ''; }
    clearTimeout(timer);
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!res.ok) {
      const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : null;
      if (e) {
        throw new ApiError(res.status, {
          code: String(e.code || `HTTP${res.status}`),
          message: String(e.message || 'No description.'),
          field: typeof e.field === 'string' ? e.field : null,
          retryable: e.retryable === true,
        });
      }
      throw new ApiError(res.status, { code: `HTTP${res.status}`, message: `The server answered ${res.status} ${res.statusText || ''} without an error description.`.replace(/\s+\./, '.') });
    }
    if (data === null || typeof data !== 'object') {
      throw new ApiError(res.status, { code: 'BadResponse', message: 'The server answered with something that is not JSON.' });
    }
    return data;
  }

  const query = (params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  };

  function setBusy(btn, busy) {
    if (!btn) return;
    btn.classList.toggle('busy', busy);
    btn.setAttribute('aria-busy', busy ? 'true' : 'false');
    if (busy) btn.disabled = true;
  }

  /** Tells screen readers a short outcome (the details are on the page). */
  function announce(msg) {
    const el = $('sr-status');
    el.textContent = '';
    setTimeout(() => { el.textContent = msg; }, 50);
  }

  let toastTimer = null;
  function toast(msg) {
    const t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 2200);
  }

  async function copyText(text, btn) {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); ok = true; }
    } catch { ok = false; }
    if (!ok) {
      const ta = h('textarea', { class: 'sr-only', readonly: true, 'aria-hidden': 'true' });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove();
    }
    toast(ok ? 'Copied to the clipboard' : 'Could not copy: select the text and copy it by hand');
    if (ok && btn) {
      const old = btn.dataset.label || btn.textContent;
      btn.dataset.label = old;
      btn.textContent = 'Copied';
      setTimeout(() => { btn.textContent = old; }, 1500);
    }
  }

  // ---------------------------------------------------------------- errors

  const STATUS_TITLE = {
    0: 'The console server did not answer',
    400: 'The request was refused',
    404: 'Not found',
    405: 'Not allowed',
    409: 'Conflict',
    413: 'Too large',
    502: 'AWS refused or failed',
  };

  /** Field of the API -> the input showing it, per step. */
  const FIELDS = {
    1: { arn: 'arn-input', resource_arn: 'arn-input', service: 'filter-service', region: 'filter-region' },
    3: {
      requestor_account_id: 'requestor-account', requestor_role_arn: 'requestor-role-arn', external_id: 'external-id',
      role_name: 'owner-role-name', max_session_duration: 'max-session',
      expires_in: 'expires-in', expires_at: 'expires-in',
    },
    4: {
      service_principal: 'service-principal', role_name: 'requestor-role-name', owner_role_arn: 'owner-role-arn-error', external_id: 'owner-role-arn-error',
      group_name: 'requestor-principal-name', user_name: 'requestor-principal-name', require_mfa: 'requestor-require-mfa',
    },
    grants: { resource_arn: 'grants-filter-resource', requestor_account_id: 'grants-filter-account' },
  };

  function fieldError(inputId, message) {
    const input = $(inputId);
    const box = $(`${inputId}-error`) || (input && input.classList.contains('field-error') ? input : null);
    if (input && !input.classList.contains('field-error')) {
      if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    }
    if (box) { box.textContent = message || ''; box.hidden = !message; }
  }

  function clearFieldErrors(step) {
    for (const id of new Set(Object.values(FIELDS[step] || {}))) fieldError(id, '');
  }

  /** Shows an API error in a step's error box and on the input its `field` names. */
  function showError(step, boxId, err, extra) {
    const box = typeof boxId === 'string' ? $(boxId) : boxId;
    box.replaceChildren();
    const title = err.code === 'Unreachable' ? 'A function could not be reached' : (STATUS_TITLE[err.status] || `Error (HTTP ${err.status})`);
    box.append(
      h('span', { class: 'title' }, title),
      h('span', { class: 'code', 'data-testid': 'error-code' }, err.code || 'Error'),
      h('span', { 'data-testid': 'error-message' }, err.message || ''),
    );
    if (err.retryable) box.append(' ', h('span', { class: 'muted' }, 'This may succeed if you try again.'));
    if (extra) box.append(' ', extra);
    box.dataset.field = err.field || '';
    box.hidden = false;
    const inputId = err.field && FIELDS[step] && FIELDS[step][err.field];
    if (inputId) {
      fieldError(inputId, err.message);
      const input = $(inputId);
      if (input && typeof input.focus === 'function' && !input.classList.contains('field-error')) input.focus();
    }
  }

  function hideError(boxId) {
    const box = typeof boxId === 'string' ? $(boxId) : boxId;
    box.hidden = true;
    box.replaceChildren();
  }

  // ---------------------------------------------------------------- state

  const LEVELS = ['List', 'Read', 'Write', 'Permissions management', 'Tagging'];
  const PM = 'Permissions management';
  const REGIONS = [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-1', 'ap-south-2',
    'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
    'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2',
    'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1', 'il-central-1', 'me-south-1',
    'me-central-1', 'mx-central-1', 'sa-east-1',
  ];
  const SEVERITY_ORDER = ['ERROR', 'SECURITY_WARNING', 'WARNING', 'SUGGESTION'];
  const PAGE = 100;

  const state = {
    setup: null,
    // The organization (list-accounts) when the setup is a hub, and the account picked in
    // it: '' is the hub's own, and then no `account_id` is sent.
    organization: null,
    account: '',
    step: 1,
    list: { items: [], cursor: null, failures: [], loading: false, seq: 0, loaded: false },
    resource: null, // {arn, name?, service?, type?, region?, pasted?}
    perms: null, // list-permissions answer for resource.arn
    selected: new Set(),
    allowPm: false,
    expanded: { List: true, Read: true, Write: false, [PM]: false, Tagging: false },
    owner: { preview: null, previewKey: null, result: null, resultKey: null },
    req: { preview: null, previewKey: null, result: null, resultKey: null, skipped: false },
    iacTab: null, // the hand-off's selected CloudFormation / Terraform tab
    handoffCheckKey: null, // handoffKey() of the verdict shown on the hand-off
    view: 'wizard', // or 'grants'
    grants: { items: [], cursor: null, loading: false, loaded: false, error: false, seq: 0, filters: {}, checks: new Map() },
  };

  // ---------------------------------------------------------------- stepper

  function ownerDone() { return !!state.owner.result && state.owner.resultKey === ownerKey(); }
  function reqDone() { return !!state.req.result && state.req.resultKey === reqKey(); }

  function reachable(step) {
    switch (step) {
      case 1: return true;
      case 2: return !!state.perms;
      case 3: return !!state.perms && state.selected.size > 0;
      case 4: return reachable(3) && ownerDone();
      case 5: return reachable(4);
      default: return false;
    }
  }

  function done(step) {
    switch (step) {
      case 1: return !!state.perms;
      case 2: return state.selected.size > 0;
      case 3: return ownerDone();
      case 4: return reqDone();
      case 5: return false;
      default: return false;
    }
  }

  function renderStepper() {
    for (let i = 1; i <= 5; i++) {
      const b = $(`step-tab-${i}`);
      const cur = i === state.step;
      b.disabled = !cur && !reachable(i);
      b.classList.toggle('done', !cur && done(i));
      if (cur) b.setAttribute('aria-current', 'step'); else b.removeAttribute('aria-current');
      const label = b.querySelector('.label').textContent;
      b.setAttribute('aria-label', `Step ${i}: ${label}${cur ? ' (current)' : done(i) ? ' (done)' : ''}`);
    }
  }

  function go(step, opts = {}) {
    if (step !== 1 && !reachable(step)) return;
    state.step = step;
    if (state.view !== 'wizard') setView('wizard');
    for (let i = 1; i <= 5; i++) $(`step-${i}`).hidden = i !== step;
    if (step === 2) renderActions();
    if (step === 3) renderOwnerStep();
    if (step === 4) renderRequestorStep();
    if (step === 5) renderHandoff();
    renderStepper();
    window.scrollTo(0, 0);
    if (opts.focus !== false) {
      const title = $(`step-${step}-title`);
      title.setAttribute('tabindex', '-1');
      title.focus({ preventScroll: true });
    }
  }

  // ---------------------------------------------------------------- setup

  async function loadSetup() {
    const box = $('setup');
    try {
      const s = await api('GET', '/api/setup');
      state.setup = s;
      const sides = s.sides || {};
      box.replaceChildren(
        h('span', { class: 'pill env', 'data-testid': 'setup-env' }, s.setup || 'unknown'),
        h('span', { class: `pill${sides.owner === false ? ' off' : ''}`, 'data-testid': 'setup-owner', title: sides.owner === false ? 'No owner-side access configured' : 'Owner account' },
          h('b', {}, 'owner'), s.owner_account || '—'),
        h('span', { class: `pill${sides.requestor === false ? ' off' : ''}`, 'data-testid': 'setup-requestor', title: sides.requestor === false ? 'No requestor-side access configured' : 'Requestor account' },
          h('b', {}, 'requestor'), s.requestor_account || '—'),
      );
      bindOwnerAccount();
      const use = $('use-requestor-account');
      if (s.requestor_account && sides.requestor !== false) {
        use.textContent = `Use ${s.requestor_account} (this console's requestor side)`;
        use.hidden = false;
      }
      if (sides.owner === false) {
        showError(1, 'resource-error', new ApiError(0, { code: 'NoOwnerSide', message: 'This console has no owner-side access configured, so it cannot list resources or create the owner role.' }));
      }
      if (s.hub) loadAccounts();
    } catch (err) {
      box.replaceChildren(h('span', { class: 'pill off', 'data-testid': 'setup-env' }, 'setup unavailable'));
      showError(1, 'resource-error', err);
    }
  }

  // ---------------------------------------------------------------- account picker

  /** The owner account the console works in: the picked member, else the hub's own (when known). */
  function ownerAccount() {
    if (state.account) return state.account;
    const hub = state.organization && state.organization.accounts.find((a) => a.spoke === 'hub');
    return (hub && hub.account_id) || (state.setup && state.setup.owner_account) || '';
  }

  /** `{account_id}` for an owner call in the picked member account; nothing for the hub's own. */
  function inAccount() {
    return state.account ? { account_id: state.account } : {};
  }

  function bindOwnerAccount() {
    for (const el of document.querySelectorAll('[data-bind="owner-account"]')) el.textContent = ownerAccount() || '(unknown)';
    const pill = document.querySelector('[data-testid="setup-owner"]');
    if (pill && pill.lastChild) pill.lastChild.textContent = ownerAccount() || '—';
  }

  /**
   * An organization hub's accounts as a picker in the top bar. Accounts the hub cannot reach
   * are listed, with the reason, but cannot be picked. A setup that is no hub (the function
   * answers NotAHub) shows no picker.
   */
  async function loadAccounts() {
    let org;
    try {
      org = await api('GET', '/api/list-accounts');
    } catch (err) {
      if (err.code !== 'NotAHub') showError(1, 'resource-error', err);
      return;
    }
    state.organization = { id: org.organization_id, accounts: Array.isArray(org.accounts) ? org.accounts : [] };
    const option = (a) => {
      const hub = a.spoke === 'hub';
      const down = a.spoke === 'unreachable';
      const label = `${a.name} · ${a.account_id}${hub ? ' (hub)' : ''}${down ? ` — unreachable: ${a.reason || 'unknown reason'}` : ''}`;
      return h('option', { value: hub ? '' : a.account_id, disabled: down, 'data-account': a.account_id, 'data-spoke': a.spoke, title: down ? `The hub cannot work in this account: ${a.reason || ''}` : '' }, label);
    };
    const accounts = state.organization.accounts;
    const picker = h('select', { id: 'account-picker', 'data-testid': 'account-picker', 'aria-label': 'Owner account of the organization', onchange: (e) => pickAccount(e.target.value) },
      accounts.filter((a) => a.spoke === 'hub').map(option),
      accounts.filter((a) => a.spoke !== 'hub').map(option));
    picker.value = state.account;
    const down = accounts.filter((a) => a.spoke === 'unreachable').length;
    $('setup').append(h('label', { class: 'pill account-pick', 'data-testid': 'account-pick', title: `Organization ${org.organization_id}${down ? `: ${down} account${down === 1 ? '' : 's'} the hub cannot reach` : ''}` },
      h('b', {}, 'account'), picker));
    bindOwnerAccount();
    measureChrome();
  }

  /** Works in another account from now on: what was chosen in the last one no longer applies. */
  function pickAccount(account) {
    if (account === state.account) return;
    state.account = account;
    bindOwnerAccount();
    state.resource = null;
    resetFrom(2);
    renderSelected();
    state.grants.loaded = false;
    if (state.view === 'grants') loadGrants(false);
    if (state.view === 'wizard') go(1, { focus: false });
    else state.step = 1;
    loadResources(false);
    announce(`Working in account ${ownerAccount()}`);
  }

  /** What a partial failure could not list, as the CLI words it. */
  function failureWhat(f) {
    const listing = f.service ? (f.region ? `${f.service} in ${f.region}` : f.service) : f.region || '';
    if (listing && f.account_id) return `${listing} of account ${f.account_id}`;
    return listing || (f.account_id ? `account ${f.account_id}` : 'a listing');
  }

  // ---------------------------------------------------------------- step 1: resources

  function fillRegions(extra) {
    const sel = $('filter-region');
    const current = sel.value;
    const all = [...new Set([...REGIONS, ...(extra || [])])].sort();
    sel.replaceChildren(h('option', { value: '' }, 'All enabled regions'), ...all.map((r) => h('option', { value: r }, r)));
    sel.value = current;
  }

  async function loadResources(more) {
    const list = state.list;
    const seq = ++list.seq;
    if (!more) {
      list.items = [];
      list.cursor = null;
      list.failures = [];
      list.loaded = false;
    }
    list.error = false;
    list.loading = true;
    hideError('resource-error');
    clearFieldErrors(1);
    renderResources();
    const loadMore = $('load-more');
    if (more) setBusy(loadMore, true);
    const slowText = $('resources-loading').lastChild;
    slowText.textContent = ' Loading resources…';
    const slow = setTimeout(() => { slowText.textContent = ' Still loading: every enabled region of every service is being listed…'; }, 8000);
    try {
      const data = await api('GET', `/api/list-resources${query({
        service: $('filter-service').value, region: $('filter-region').value, limit: PAGE, cursor: more ? list.cursor : '', ...inAccount(),
      })}`);
      if (seq !== list.seq) return;
      list.items.push(...(Array.isArray(data.resources) ? data.resources : []));
      list.cursor = data.next_cursor || null;
      list.failures = Array.isArray(data.partial_failures) ? data.partial_failures : [];
      list.loaded = true;
      fillRegions(list.items.map((r) => r.region).filter(Boolean));
    } catch (err) {
      if (seq !== list.seq) return;
      list.error = true;
      showError(1, 'resource-error', err);
    } finally {
      clearTimeout(slow);
      if (seq === list.seq) {
        list.loading = false;
        setBusy(loadMore, false);
        loadMore.disabled = false;
        renderResources();
      }
    }
  }

  function matches(r, needle) {
    if (!needle) return true;
    const hay = [r.name, r.arn, ...Object.entries(r.tags || {}).map(([k, v]) => `${k}=${v}`)].join('\n').toLowerCase();
    return needle.split(/\s+/).every((w) => hay.includes(w));
  }

  function tagChips(tags) {
    const entries = Object.entries(tags || {});
    if (!entries.length) return h('span', { class: 'muted' }, '—');
    const shown = entries.slice(0, 4).map(([k, v]) => h('span', { class: 'chip', title: `${k} = ${v}`, 'data-testid': 'tag-chip' }, h('b', {}, k), v === '' ? '' : `=${v}`));
    if (entries.length > 4) {
      shown.push(h('span', { class: 'chip', title: entries.slice(4).map(([k, v]) => `${k} = ${v}`).join('\n') }, `+${entries.length - 4} more`));
    }
    return h('div', { class: 'chips' }, shown);
  }

  const TYPE_LABEL = { bucket: 'bucket', instance: 'instance', function: 'function', db: 'DB instance', cluster: 'DB cluster' };

  function renderResources() {
    const list = state.list;
    const needle = $('resource-search').value.trim().toLowerCase();
    const rows = list.items.filter((r) => matches(r, needle));
    const tbody = $('resource-rows');
    const selectedArn = state.resource && state.resource.arn;
    tbody.replaceChildren(...rows.map((r, i) => {
      const sel = r.arn === selectedArn;
      const radio = h('input', {
        type: 'radio', name: 'resource', id: `res-${i}`, value: r.arn, 'aria-label': `${r.name} (${r.arn})`,
        'data-testid': 'resource-radio', onchange: () => pickResource(r),
        onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); pickResource(r); toActions(); } },
      });
      radio.checked = sel;
      return h('tr', {
        class: sel ? 'is-selected' : '', 'data-testid': 'resource-row', 'data-arn': r.arn, 'aria-selected': sel ? 'true' : 'false',
        onclick: (e) => { if (e.target !== radio) { radio.checked = true; pickResource(r); radio.focus(); } },
        ondblclick: () => { pickResource(r); toActions(); },
      },
      h('td', {}, radio),
      h('td', { class: 'td-name' }, r.name || '—'),
      h('td', { class: 'td-type' }, h('span', { class: `svc svc-${r.service}` }, (r.service || '').toUpperCase()), TYPE_LABEL[r.type] || r.type || ''),
      h('td', { class: 'td-region' }, r.region || 'global'),
      h('td', {}, tagChips(r.tags)),
      h('td', { class: 'td-arn' }, r.arn));
    }));
    $('resources-loading').hidden = !list.loading;
    const empty = $('resources-empty');
    empty.hidden = list.loading || (!list.loaded && !list.error) || rows.length > 0;
    empty.textContent = list.error && !list.items.length
      ? 'The list could not be loaded: Reload to try again, or paste an ARN below.'
      : list.items.length ? 'No loaded resource matches the search.' : 'No resources found for these filters. You can paste any ARN below.';
    const count = $('resource-count');
    if (!list.loaded) count.textContent = '';
    else {
      const total = `${list.items.length} resource${list.items.length === 1 ? '' : 's'} loaded${list.cursor ? ', more available' : ''}`;
      count.textContent = needle ? `${rows.length} of ${total}${list.cursor ? ' (load more to search further)' : ''}` : total;
    }
    $('load-more').hidden = !list.cursor;
    const pf = $('partial-failures');
    if (list.failures.length) {
      pf.replaceChildren(
        h('strong', {}, 'The list may be incomplete: '),
        `${list.failures.length} listing${list.failures.length === 1 ? '' : 's'} could not be made.`,
        h('ul', {}, list.failures.map((f) => h('li', { 'data-testid': 'partial-failure' },
          h('span', { class: 'mono' }, failureWhat(f)), `: ${f.code} — ${f.message}`))),
      );
      pf.hidden = false;
    } else pf.hidden = true;
    renderSelected();
  }

  function pickResource(r) {
    const changed = !state.resource || state.resource.arn !== r.arn;
    state.resource = { ...r };
    if (changed) resetFrom(2);
    for (const tr of $('resource-rows').children) {
      const sel = tr.dataset.arn === r.arn;
      tr.classList.toggle('is-selected', sel);
      tr.setAttribute('aria-selected', sel ? 'true' : 'false');
    }
    if (!r.pasted) fieldError('arn-input', '');
    renderSelected();
    renderStepper();
  }

  function renderSelected() {
    const box = $('resource-selected');
    const r = state.resource;
    if (!r) box.replaceChildren(h('span', { class: 'muted' }, 'No resource selected'));
    else box.replaceChildren('Selected: ', h('span', { class: 'mono', 'data-testid': 'selected-arn' }, r.arn));
    box.title = r ? r.arn : '';
    $('resource-next').disabled = !r;
  }

  /** Clears what depends on the resource (step >= 2) or on the actions (step >= 3). */
  function resetFrom(step) {
    if (step <= 2) {
      state.perms = null;
      state.selected = new Set();
      state.allowPm = false;
      $('allow-pm').checked = false;
      $('actions-filter').value = '';
    }
    if (step <= 3) {
      state.owner = { preview: null, previewKey: null, result: null, resultKey: null };
      $('owner-preview-panel').hidden = true;
      $('owner-result').hidden = true;
      hideError('owner-error');
    }
    state.req = { preview: null, previewKey: null, result: null, resultKey: null, skipped: false };
    $('requestor-preview-panel').hidden = true;
    $('requestor-result').hidden = true;
    hideError('requestor-error');
  }

  async function toActions() {
    const r = state.resource;
    if (!r) return;
    if (state.perms && state.perms.arn === r.arn) { go(2); return; }
    const btn = r.pasted ? $('arn-use') : $('resource-next');
    hideError('resource-error');
    setBusy(btn, true);
    try {
      const data = await api('GET', `/api/list-permissions${query({ arn: r.arn })}`);
      if (!state.resource || state.resource.arn !== r.arn) return;
      data.actions = Array.isArray(data.actions) ? data.actions : [];
      state.perms = data;
      go(2);
    } catch (err) {
      if (r.pasted && (err.field === 'arn' || err.field === 'resource_arn' || !err.field)) {
        fieldError('arn-input', err.message);
        showError(1, 'resource-error', err);
        $('arn-input').focus();
      } else showError(1, 'resource-error', err);
    } finally {
      setBusy(btn, false);
      btn.disabled = btn === $('resource-next') ? !state.resource : false;
    }
  }

  function usePastedArn(e) {
    e.preventDefault();
    const raw = $('arn-input').value.trim();
    if (!raw) { fieldError('arn-input', 'Paste an ARN, e.g. arn:aws:s3:::my-bucket'); $('arn-input').focus(); return; }
    if (!/^arn:[\w-]+:[\w-]+:[\w-]*:\d{0,12}:.+$/.test(raw)) {
      fieldError('arn-input', 'That does not look like an ARN: arn:partition:service:region:account:resource');
      $('arn-input').focus();
      return;
    }
    fieldError('arn-input', '');
    const known = state.list.items.find((r) => r.arn === raw);
    pickResource(known ? { ...known, pasted: true } : { arn: raw, name: raw.split(/[:/]/).pop(), pasted: true });
    toActions();
  }

  // ---------------------------------------------------------------- step 2: actions

  function renderActions() {
    const p = state.perms;
    if (!p) return;
    $('actions-subject').replaceChildren(
      `${p.service_name || p.service} · ${p.resource_type || 'resource'} · `,
      h('span', { class: 'mono', 'data-testid': 'actions-arn' }, p.arn),
    );
    const needle = $('actions-filter').value.trim().toLowerCase();
    const container = $('action-groups');
    const groups = [];
    const known = new Set(LEVELS);
    const levels = [...LEVELS, ...new Set(p.actions.map((a) => a.access_level).filter((l) => !known.has(l)))];
    for (const level of levels) {
      const all = p.actions.filter((a) => a.access_level === level);
      if (!all.length) continue;
      const visible = all.filter((a) => !needle || `${a.action}\n${a.description}`.toLowerCase().includes(needle));
      if (needle && !visible.length) continue;
      groups.push(renderGroup(level, all, visible, !!needle));
    }
    if (!groups.length) {
      groups.push(h('div', { class: 'no-match', 'data-testid': 'actions-empty' },
        p.actions.length ? `No action matches “${$('actions-filter').value.trim()}”.` : 'No IAM action applies to this resource.'));
    }
    container.replaceChildren(...groups);
    updateActionCounts();
  }

  function slug(s) { return s.toLowerCase().replace(/[^a-z]+/g, '-'); }

  function renderGroup(level, all, visible, filtering) {
    const pm = level === PM;
    const open = filtering || state.expanded[level] !== false;
    const listId = `group-${slug(level)}`;
    const toggle = h('button', {
      type: 'button', class: 'group-toggle', 'aria-expanded': open ? 'true' : 'false', 'aria-controls': listId,
      'data-testid': 'group-toggle',
      onclick: () => {
        state.expanded[level] = !(toggle.getAttribute('aria-expanded') === 'true');
        toggle.setAttribute('aria-expanded', state.expanded[level] ? 'true' : 'false');
        $(listId).hidden = !state.expanded[level];
      },
    }, h('span', { class: 'caret', 'aria-hidden': 'true' }), level,
    h('span', { class: 'count', 'data-testid': 'group-count' }, ''),
    pm ? h('span', { class: 'danger-tag' }, 'dangerous') : null);
    const selectAll = h('input', {
      type: 'checkbox', 'data-testid': 'group-select-all',
      'aria-label': `Select all ${filtering ? 'matching ' : ''}${level} actions`,
      onchange: () => {
        const on = selectAll.checked;
        for (const a of visible) {
          if (on && pm && !state.allowPm) continue;
          if (on) state.selected.add(a.action); else state.selected.delete(a.action);
        }
        for (const cb of $(listId).querySelectorAll('input[type=checkbox]')) cb.checked = state.selected.has(cb.value);
        updateActionCounts();
      },
    });
    const rows = visible.map((a) => renderAction(a, pm));
    return h('div', { class: `group${pm ? ' pm' : ''}`, 'data-testid': 'action-group', 'data-level': level },
      h('div', { class: 'group-head' }, toggle,
        h('label', { class: 'group-select' }, selectAll, filtering ? `Select all ${visible.length} matching` : 'Select all')),
      h('ul', { class: 'action-list', id: listId, hidden: !open }, rows));
  }

  function renderAction(a, pm) {
    const id = `act-${a.action.replace(/[^A-Za-z0-9]/g, '-')}`;
    const extra = (Array.isArray(a.resources) ? a.resources : []).filter((r) => r !== a.resource);
    const star = a.resource === '*';
    const cb = h('input', {
      type: 'checkbox', id, value: a.action, 'data-testid': 'action-checkbox', 'aria-describedby': `${id}-desc`,
      onchange: () => {
        if (cb.checked) state.selected.add(a.action); else state.selected.delete(a.action);
        updateActionCounts();
      },
    });
    cb.checked = state.selected.has(a.action);
    return h('li', { class: `action${pm ? ' pm' : ''}`, 'data-testid': 'action-row', 'data-action': a.action },
      cb,
      h('label', { class: 'action-name', for: id }, a.action),
      h('span', { class: 'action-desc', id: `${id}-desc` },
        pm ? h('span', { class: 'danger-tag', 'data-testid': 'dangerous', title: 'Permissions management: the holder can change who has access' }, 'dangerous') : null,
        a.description || ''),
      h('div', { class: 'action-on', 'data-testid': 'action-resource' },
        'granted on',
        h('span', { class: `chip arn${star ? ' star' : ''}`, title: star ? 'This action supports no resource-level permissions: it can only be granted on *' : 'The exact ARN this action is granted on' }, a.resource),
        extra.length ? 'and' : null,
        extra.map((r) => h('span', { class: 'chip arn', 'data-testid': 'action-extra-resource', title: 'A grant of this action also includes this ARN' }, r))));
  }

  function updateActionCounts() {
    const p = state.perms;
    if (!p) return;
    for (const g of $('action-groups').querySelectorAll('[data-testid="action-group"]')) {
      const level = g.dataset.level;
      const pm = level === PM;
      const all = p.actions.filter((a) => a.access_level === level);
      const n = all.filter((a) => state.selected.has(a.action)).length;
      const count = g.querySelector('[data-testid="group-count"]');
      count.textContent = n ? `${n} of ${all.length} selected` : `${all.length}`;
      count.classList.toggle('has', n > 0);
      const boxes = [...g.querySelectorAll('.action-list input[type=checkbox]')];
      const checked = boxes.filter((b) => b.checked).length;
      const sa = g.querySelector('[data-testid="group-select-all"]');
      sa.checked = boxes.length > 0 && checked === boxes.length;
      sa.indeterminate = checked > 0 && checked < boxes.length;
      sa.disabled = pm && !state.allowPm;
      for (const b of boxes) {
        b.disabled = pm && !state.allowPm;
        b.closest('.action').classList.toggle('is-checked', b.checked);
        b.closest('.action').classList.toggle('is-disabled', b.disabled);
        b.title = b.disabled ? 'Tick “Allow permissions management actions” first' : '';
      }
    }
    const n = state.selected.size;
    const pmCount = p.actions.filter((a) => a.access_level === PM && state.selected.has(a.action)).length;
    const el = $('actions-selected-count');
    el.replaceChildren(n ? `${n} action${n === 1 ? '' : 's'} selected` : 'No actions selected');
    if (pmCount) el.append(' · ', h('span', { class: 'danger-tag' }, `${pmCount} permissions management`));
    el.title = [...state.selected].sort().join(', ');
    $('actions-next').disabled = n === 0;
    renderStepper();
  }

  // ---------------------------------------------------------------- step 3: owner role

  const ACCOUNT_RE = /^\d{12}$/;
  const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
  const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;
  const ROLE_NAME_RE = /^[\w+=,.@-]{1,64}$/;

  function renderOwnerStep() {
    const r = state.resource;
    const n = state.selected.size;
    $('owner-subject').replaceChildren(
      `${n} action${n === 1 ? '' : 's'} on `, h('span', { class: 'mono' }, r ? r.arn : ''),
      '. The role trusts only the requestor account, always with an External ID.');
    refreshOwnerButtons();
  }

  function validateAccount(show) {
    const v = $('requestor-account').value.trim();
    let msg = '';
    if (!v) msg = 'Required: the requestor’s 12-digit AWS account ID.';
    else if (!ACCOUNT_RE.test(v)) msg = `Must be exactly 12 digits, got ${/^\d+$/.test(v) ? `${v.length} digit${v.length === 1 ? '' : 's'}` : `“${v}”`}.`;
    else if (state.setup && state.setup.owner_account && v === state.setup.owner_account) msg = `Must be another account than the owner account ${v}.`;
    if (show) fieldError('requestor-account', msg);
    return !msg;
  }

  function validateOwnerForm() {
    let ok = validateAccount(true);
    const checks = [
      ['requestor-role-arn', (v) => !v || ROLE_ARN_RE.test(v) || 'Must be a role ARN, e.g. arn:aws:iam::123456789012:role/xacct/reader.'],
      ['external-id', (v) => !v || EXTERNAL_ID_RE.test(v) || 'Must be 2 to 1224 characters of letters, digits and +=,.@:/-_ (or empty to generate one).'],
      ['owner-role-name', (v) => !v || ROLE_NAME_RE.test(v) || 'Must be 1 to 64 characters of letters, digits and +=,.@-_.'],
    ];
    for (const [id, check] of checks) {
      const res = check($(id).value.trim());
      fieldError(id, res === true ? '' : res);
      if (res !== true) ok = false;
    }
    return ok;
  }

  /** The create-owner-role body for the current inputs (without dry_run). */
  function ownerBody() {
    const body = {
      resource_arn: state.resource ? state.resource.arn : '',
      actions: [...state.selected].sort(),
      requestor_account_id: $('requestor-account').value.trim(),
    };
    const roleArn = $('requestor-role-arn').value.trim();
    const ext = $('external-id').value.trim();
    const name = $('owner-role-name').value.trim();
    if (roleArn) body.requestor_role_arn = roleArn;
    if (ext) body.external_id = ext;
    if ($('require-mfa').checked) body.require_mfa = true;
    body.max_session_duration = Number($('max-session').value);
    // A time (it starts with a year) is `expires_at`; anything else is a duration.
    const expires = $('expires-in').value.trim();
    if (/^\d{4}-/.test(expires)) body.expires_at = expires;
    else if (expires) body.expires_in = expires;
    if (name) body.role_name = name;
    if (state.allowPm) body.allow_permissions_management = true;
    return { ...body, ...inAccount() };
  }

  function ownerKey() { return JSON.stringify(ownerBody()); }

  function errorCount(resp) { return (resp.findings || []).filter((f) => f.severity === 'ERROR').length; }

  /** With ERROR findings, creating needs an explicit acknowledgment. */
  function ackState(prefix, errors) {
    const wrap = $(`${prefix}-ack-wrap`);
    wrap.hidden = errors === 0;
    if (errors === 0) $(`${prefix}-ack`).checked = false;
    $(`${prefix}-ack-label`).textContent = `The preview has ${errors} error${errors === 1 ? '' : 's'}: create anyway`;
  }

  function refreshOwnerButtons() {
    const o = state.owner;
    const fresh = !!o.preview && o.previewKey === ownerKey();
    const errors = fresh ? errorCount(o.preview) : 0;
    ackState('owner', errors);
    const blocked = errors > 0 && !$('owner-ack').checked;
    $('owner-create').disabled = !fresh || blocked;
    const hint = $('owner-create-hint');
    if (!o.preview) hint.textContent = 'Preview first: nothing is written until you create.';
    else if (!fresh) hint.textContent = 'The inputs changed since the preview: preview again.';
    else if (blocked) hint.textContent = '';
    else hint.textContent = 'Creates exactly what the preview shows.';
    $('owner-preview-panel').classList.toggle('stale', !!o.preview && !fresh);
    $('owner-next').disabled = !ownerDone();
    renderStepper();
  }

  function renderFindings(listId, findings) {
    const ul = $(listId);
    const sorted = [...(findings || [])].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
    if (!sorted.length) {
      ul.replaceChildren(h('li', { 'data-testid': 'no-findings' }, h('span', { class: 'badge sev-OK' }, 'OK'), h('span', { class: 'msg' }, 'No findings: the policies pass every check.')));
      return;
    }
    ul.replaceChildren(...sorted.map((f) => h('li', { 'data-testid': 'finding', 'data-severity': f.severity },
      h('span', { class: `badge sev-${f.severity}` }, String(f.severity || '').replace(/_/g, ' ')),
      h('span', { class: 'msg' }, f.message, h('span', { class: 'fcode' }, f.code, f.statement ? ` · statement ${f.statement}` : '')))));
  }

  function renderChanges(listId, changes, whatIfNone) {
    const ul = $(listId);
    if (!changes || !changes.length) ul.replaceChildren(h('li', { class: 'none', 'data-testid': 'no-changes' }, whatIfNone));
    else ul.replaceChildren(...changes.map((c) => h('li', { 'data-testid': 'change' }, codeText(c))));
  }

  const ACCESS_LABELS = {
    new: 'New: everything below is granted.',
    none: 'No change to access.',
    narrows: 'Narrows access only.',
    widens: 'Widens access.',
    mixed: 'Widens access in one way and narrows it in another.',
    replaces: 'Replaces a condition (a new External ID): neither wider nor narrower.',
  };

  /** The access diff of a create answer: its label, then + for what it adds, - for what it takes away. */
  function renderAccess(listId, diff) {
    const ul = $(listId);
    if (!ul) return;
    if (!diff) { ul.replaceChildren(); return; }
    const cond = (c) => `${c.operator} ${c.key} = ${(c.values || []).join(', ')}`;
    const items = [
      ...(diff.granted || []).map((a) => `+ ${a.action} on ${a.resource}`),
      ...(diff.revoked || []).map((a) => `- ${a.action} on ${a.resource}`),
      ...(diff.principals_added || []).map((p) => `+ may assume: ${p}`),
      ...(diff.principals_removed || []).map((p) => `- may no longer assume: ${p}`),
      ...(diff.conditions_added || []).map((c) => `+ condition ${cond(c)}`),
      ...(diff.conditions_removed || []).map((c) => `- condition ${cond(c)}`),
    ];
    ul.dataset.change = diff.change;
    ul.replaceChildren(
      h('li', { class: 'label', 'data-testid': 'access-change' }, ACCESS_LABELS[diff.change] || diff.change),
      ...items.map((t) => h('li', { class: t.startsWith('+') ? 'add' : 'remove', 'data-testid': 'access-item' }, codeText(t))));
  }

  async function ownerPreview(e) {
    e.preventDefault();
    hideError('owner-error');
    clearFieldErrors(3);
    if (!validateOwnerForm()) {
      const first = document.querySelector('#owner-form [aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    const key = ownerKey();
    const btn = $('owner-preview');
    setBusy(btn, true);
    try {
      const resp = await api('POST', '/api/create-owner-role', { ...ownerBody(), dry_run: true });
      state.owner.preview = resp;
      state.owner.previewKey = key;
      $('owner-ack').checked = false;
      $('owner-result').hidden = true;
      const panel = $('owner-preview-panel');
      $('permissions-policy').innerHTML = highlightJson(resp.permissions_policy);
      $('trust-policy').innerHTML = highlightJson(resp.trust_policy);
      renderFindings('findings', resp.findings);
      renderChanges('changes', resp.changes, 'Nothing to change: the role is already up to date.');
      renderAccess('access-diff', resp.access_diff);
      $('changes-title').textContent = 'Planned changes';
      let summary = panel.querySelector('.preview-summary');
      if (!summary) { summary = h('p', { class: 'preview-summary muted', 'data-testid': 'owner-preview-summary' }); panel.prepend(summary); }
      fill(summary, 'Dry run: nothing was written. Role ', h('span', { class: 'mono' }, resp.role_arn || ''),
        resp.external_id ? [' with External ID ', h('span', { class: 'mono', 'data-testid': 'preview-external-id' }, resp.external_id), $('external-id').value.trim() ? '.' : ' (generated by the server; creating the role keeps it).'] : '.');
      panel.hidden = false;
      revealBelow('owner-preview');
    } catch (err) {
      state.owner.preview = null;
      state.owner.previewKey = null;
      $('owner-preview-panel').hidden = true;
      showError(3, 'owner-error', err, backLink(err));
    } finally {
      setBusy(btn, false);
      btn.disabled = false;
      refreshOwnerButtons();
    }
  }

  /** Scrolls so the form's buttons are at the top and what they produced fills the screen. */
  function revealBelow(buttonId) {
    const row = $(buttonId).closest('.form-actions');
    const top = row.getBoundingClientRect().top + window.scrollY - 12;
    window.scrollTo(0, Math.max(0, top));
  }

  function backLink(err) {
    if (err.field === 'actions') return h('button', { type: 'button', class: 'linkish', onclick: () => go(2) }, 'Change the actions');
    if (err.field === 'resource_arn') return h('button', { type: 'button', class: 'linkish', onclick: () => go(1) }, 'Choose another resource');
    return null;
  }

  async function ownerCreate() {
    const o = state.owner;
    const key = ownerKey();
    if (!o.preview || o.previewKey !== key) { refreshOwnerButtons(); return; }
    hideError('owner-error');
    clearFieldErrors(3);
    const body = ownerBody();
    // Create exactly what was previewed: the External ID shown in the preview, even when the
    // server generated it.
    if (!body.external_id && o.preview.external_id) body.external_id = o.preview.external_id;
    const btn = $('owner-create');
    setBusy(btn, true);
    try {
      const resp = await api('POST', '/api/create-owner-role', { ...body, dry_run: false });
      o.result = resp;
      o.resultKey = key;
      const created = (resp.changes || []).includes('create role');
      const res = $('owner-result');
      res.className = `result ${resp.changed ? 'ok' : 'same'}`;
      res.dataset.changed = String(!!resp.changed);
      fill(res,
        h('span', { class: 'title', 'data-testid': 'owner-result-title' }, resp.changed ? (created ? 'Role created' : 'Role updated') : 'Already up to date: nothing was changed'),
        h('div', {}, 'Role ', h('span', { class: 'mono', 'data-testid': 'owner-role-arn' }, resp.role_arn)),
        h('div', { 'data-testid': 'owner-expires' }, resp.expires_at
          ? ['Expires ', h('span', { class: 'mono' }, resp.expires_at), ': AWS refuses to assume the role from then on.']
          : 'Does not expire: revoke it when it is no longer needed.'),
        resp.changed ? h('div', { class: 'small' }, `Changes made: ${(resp.changes || []).join('; ')}`) : null,
      );
      res.hidden = false;
      renderFindings('findings', resp.findings);
      renderChanges('changes', resp.changes, 'Nothing was changed.');
      renderAccess('access-diff', resp.access_diff);
      $('changes-title').textContent = 'Changes made';
      $('permissions-policy').innerHTML = highlightJson(resp.permissions_policy);
      $('trust-policy').innerHTML = highlightJson(resp.trust_policy);
      const summary = $('owner-preview-panel').querySelector('.preview-summary');
      if (summary) summary.textContent = resp.changed ? 'Written to IAM: the policies below are what the role has now.' : 'The role already had exactly these policies.';
      revealBelow('owner-preview');
      $('owner-next').focus({ preventScroll: true });
    } catch (err) {
      showError(3, 'owner-error', err, backLink(err));
    } finally {
      setBusy(btn, false);
      refreshOwnerButtons();
    }
  }

  // ---------------------------------------------------------------- step 4: requestor side

  /** Who gets access on the requestor side: `service` (a new role), `group` or `user` (people). */
  function reqKind() {
    const r = document.querySelector('input[name="requestor_kind"]:checked');
    return r ? r.value : 'service';
  }

  function reqBody() {
    const o = state.owner.result;
    const kind = reqKind();
    const body = { owner_role_arn: o ? o.role_arn : '' };
    if (kind === 'service') body.service_principal = $('service-principal').value;
    else {
      body[kind === 'group' ? 'group_name' : 'user_name'] = $('requestor-principal-name').value.trim();
      if ($('requestor-require-mfa').checked) body.require_mfa = true;
    }
    if (o && o.external_id) body.external_id = o.external_id;
    // The requestor side ends with the owner's grant: its role is removed, a person's policy
    // allows only until then.
    if (o && o.expires_at) body.expires_at = o.expires_at;
    const name = $('requestor-role-name').value.trim();
    if (kind === 'service' && name) body.role_name = name;
    return body;
  }

  function ownerRequiresMfa(o) { return !!o && /aws:MultiFactorAuthPresent/.test(JSON.stringify(o.trust_policy || {})); }

  /** Shows the inputs for the chosen kind of requestor. */
  function renderReqKind() {
    const kind = reqKind();
    const people = kind !== 'service';
    $('service-principal-field').hidden = people;
    $('requestor-role-name-field').hidden = people;
    $('people-name-field').hidden = !people;
    $('requestor-principal-name-label').textContent = kind === 'user' ? 'User name' : 'Group name';
    const input = $('requestor-principal-name');
    input.maxLength = kind === 'user' ? 64 : 128;
    input.placeholder = kind === 'user' ? 'e.g. alice (without its path)' : 'e.g. analysts (without its path)';
    const off = !$('requestor-unavailable').hidden;
    $('requestor-mfa-warning').hidden = off || people || !ownerRequiresMfa(state.owner.result);
    $('requestor-create').textContent = people ? `Put the policy on the ${kind}` : 'Create requestor role';
  }

  function reqKey() { return JSON.stringify(reqBody()); }

  function renderRequestorStep() {
    const o = state.owner.result;
    const sides = (state.setup && state.setup.sides) || {};
    const acct = (state.setup && state.setup.requestor_account) || '';
    const wanted = $('requestor-account').value.trim();
    $('requestor-subject').replaceChildren(
      'In the requestor account ', h('span', { class: 'mono' }, wanted || '—'),
      ': a role for a service, or a policy on an existing group or user, whose only permission is to assume the owner role.');
    $('requestor-owner-role').replaceChildren(
      h('div', {}, o ? o.role_arn : '—'),
      h('div', { class: 'muted' }, o && o.external_id ? `External ID ${o.external_id}` : ''));
    const unavailable = sides.requestor === false
      ? 'This console has no requestor-side access, so it cannot create the requestor role. Skip this step and hand the details to the requestor.'
      : acct && wanted && acct !== wanted
        ? `This console's requestor side is account ${acct}, not ${wanted}: a role created here would be in ${acct}, which the owner role does not trust. Skip this step and hand the details to the requestor.`
        : '';
    const warn = $('requestor-unavailable');
    warn.textContent = unavailable;
    warn.hidden = !unavailable;
    for (const el of $('requestor-form').querySelectorAll('input, select, button')) el.disabled = !!unavailable;
    renderReqKind();
    refreshReqButtons();
  }

  function refreshReqButtons() {
    const r = state.req;
    const fresh = !!r.preview && r.previewKey === reqKey();
    const errors = fresh ? errorCount(r.preview) : 0;
    ackState('requestor', errors);
    const blocked = errors > 0 && !$('requestor-ack').checked;
    const off = !$('requestor-unavailable').hidden;
    $('requestor-preview').disabled = off;
    $('requestor-create').disabled = off || !fresh || blocked;
    $('requestor-next').disabled = !reqDone();
    $('requestor-create-hint').textContent = off ? '' : !r.preview
      ? 'Preview first: nothing is written until you create.'
      : !fresh ? 'The inputs changed since the preview: preview again.'
        : blocked ? '' : 'Creates exactly what the preview shows.';
    renderStepper();
  }

  /** Checks the step's inputs in the browser; focuses the first bad one. */
  function validateReqForm() {
    const kind = reqKind();
    if (kind === 'service') {
      const v = $('requestor-role-name').value.trim();
      const msg = !v || ROLE_NAME_RE.test(v) ? '' : 'Must be 1 to 64 characters of letters, digits and +=,.@-_.';
      fieldError('requestor-role-name', msg);
      if (msg) $('requestor-role-name').focus();
      return !msg;
    }
    const v = $('requestor-principal-name').value.trim();
    const max = kind === 'user' ? 64 : 128;
    const msg = !v ? `Required: the name of an existing IAM ${kind} of the requestor account.`
      : v.length <= max && /^[\w+=,.@-]+$/.test(v) ? ''
        : `Must be 1 to ${max} characters of letters, digits and +=,.@-_ (the name without its path).`;
    fieldError('requestor-principal-name', msg);
    if (msg) $('requestor-principal-name').focus();
    return !msg;
  }

  const isPeople = (resp) => !!resp && (resp.principal_type === 'group' || resp.principal_type === 'user');

  function showReqPolicies(resp) {
    $('requestor-policy').innerHTML = highlightJson(resp.policy);
    $('requestor-policy-title').textContent = isPeople(resp) && resp.policy_name ? `Inline policy ${resp.policy_name}` : 'Permissions policy';
    $('requestor-trust-card').hidden = !resp.trust_policy;
    $('requestor-trust-policy').innerHTML = resp.trust_policy ? highlightJson(resp.trust_policy) : '';
    renderFindings('requestor-findings', resp.findings);
  }

  /** "Role arn:…" or "Inline policy x on group arn:…", for the preview and result summaries. */
  function reqSubject(resp, testid) {
    if (isPeople(resp)) {
      return ['Inline policy ', h('span', { class: 'mono' }, resp.policy_name || ''), ` on ${resp.principal_type} `,
        h('span', { class: 'mono', 'data-testid': testid }, resp.principal_arn || '')];
    }
    return ['Role ', h('span', { class: 'mono', 'data-testid': testid }, resp.role_arn || '')];
  }

  async function reqPreview(e) {
    e.preventDefault();
    hideError('requestor-error');
    clearFieldErrors(4);
    if (!validateReqForm()) return;
    const key = reqKey();
    const btn = $('requestor-preview');
    setBusy(btn, true);
    try {
      const resp = await api('POST', '/api/create-requestor-resources', { ...reqBody(), dry_run: true });
      state.req.preview = resp;
      state.req.previewKey = key;
      $('requestor-ack').checked = false;
      $('requestor-result').hidden = true;
      showReqPolicies(resp);
      renderChanges('requestor-changes', resp.changes, 'Nothing to change: the role is already up to date.');
      renderAccess('requestor-access-diff', resp.access_diff);
      $('requestor-changes-title').textContent = 'Planned changes';
      const panel = $('requestor-preview-panel');
      let summary = panel.querySelector('.preview-summary');
      if (!summary) { summary = h('p', { class: 'preview-summary muted', 'data-testid': 'requestor-preview-summary' }); panel.prepend(summary); }
      fill(summary, 'Dry run: nothing was written. ', reqSubject(resp),
        resp.instance_profile_arn ? [' and instance profile ', h('span', { class: 'mono' }, resp.instance_profile_arn)] : '', '.');
      panel.hidden = false;
      revealBelow('requestor-preview');
    } catch (err) {
      state.req.preview = null;
      $('requestor-preview-panel').hidden = true;
      showError(4, 'requestor-error', err);
    } finally {
      setBusy(btn, false);
      btn.disabled = false;
      refreshReqButtons();
    }
  }

  async function reqCreate() {
    const r = state.req;
    const key = reqKey();
    if (!r.preview || r.previewKey !== key) { refreshReqButtons(); return; }
    hideError('requestor-error');
    clearFieldErrors(4);
    const btn = $('requestor-create');
    setBusy(btn, true);
    try {
      const resp = await api('POST', '/api/create-requestor-resources', { ...reqBody(), dry_run: false });
      r.result = resp;
      r.resultKey = key;
      r.skipped = false;
      const created = (resp.changes || []).includes('create role');
      const people = isPeople(resp);
      const res = $('requestor-result');
      res.className = `result ${resp.changed ? 'ok' : 'same'}`;
      res.dataset.changed = String(!!resp.changed);
      const title = !resp.changed ? 'Already up to date: nothing was changed'
        : people ? `Policy put on the ${resp.principal_type}` : created ? 'Requestor role created' : 'Requestor role updated';
      fill(res,
        h('span', { class: 'title', 'data-testid': 'requestor-result-title' }, title),
        h('div', {}, reqSubject(resp, people ? 'requestor-principal-arn-result' : 'requestor-role-arn-result')),
        resp.instance_profile_arn ? h('div', {}, 'Instance profile ', h('span', { class: 'mono' }, resp.instance_profile_arn)) : null,
      );
      res.hidden = false;
      showReqPolicies(resp);
      renderChanges('requestor-changes', resp.changes, 'Nothing was changed.');
      renderAccess('requestor-access-diff', resp.access_diff);
      $('requestor-changes-title').textContent = 'Changes made';
      const summary = $('requestor-preview-panel').querySelector('.preview-summary');
      const holder = people ? `the ${resp.principal_type}` : 'the role';
      if (summary) summary.textContent = resp.changed ? `Written to IAM: the policies below are what ${holder} has now.` : `${holder[0].toUpperCase()}${holder.slice(1)} already had exactly these policies.`;
      revealBelow('requestor-preview');
      $('requestor-next').focus({ preventScroll: true });
    } catch (err) {
      showError(4, 'requestor-error', err);
    } finally {
      setBusy(btn, false);
      refreshReqButtons();
    }
  }

  // ---------------------------------------------------------------- step 5: hand-off

  function shellQuote(s) { return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, "'\\''")}'`; }

  /** The `aws sts assume-role` command built here, for an answer without a hand-off. */
  function cliFallback(o) {
    const lines = [
      'aws sts assume-role \\',
      `  --role-arn ${shellQuote(o ? o.role_arn : '')} \\`,
      '  --role-session-name xacct-session \\',
      `  --external-id ${shellQuote(o ? o.external_id : '')}`,
    ];
    if (ownerRequiresMfa(o)) {
      lines[lines.length - 1] += ' \\';
      lines.push(`  --serial-number arn:aws:iam::${o.requestor_account_id || 'ACCOUNT'}:mfa/DEVICE \\`, '  --token-code 123456');
    }
    return lines.join('\n');
  }

  /** Saves text as a file, from the page itself (a Blob: nothing is fetched). */
  function download(text, filename, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = h('a', { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast(`Saved as ${filename}`);
  }

  /** Only https links from an answer become links. */
  const safeUrl = (u) => (typeof u === 'string' && /^https:\/\/[^\s"'<>]+$/.test(u) ? u : '');

  function renderHandoff() {
    const o = state.owner.result;
    const r = reqDone() ? state.req.result : null;
    const people = isPeople(r);
    const rows = [
      ['Resource', 'resource-arn', state.resource && state.resource.arn],
      ['Actions', 'actions', [...state.selected].sort()],
      ['Owner role ARN', 'owner-role-arn', o && o.role_arn],
      ['External ID', 'external-id', o && o.external_id],
    ];
    const ends = (r && r.handoff && r.handoff.expires_at) || (o && o.handoff && o.handoff.expires_at);
    if (ends) rows.push(['Access ends', 'expires-at', ends]);
    if (people) {
      rows.push([`Requestor ${r.principal_type}`, 'requestor-principal-arn', r.principal_arn]);
      rows.push(['Its inline policy', 'requestor-policy-name', r.policy_name]);
    } else rows.push(['Requestor role ARN', 'requestor-role-arn', r ? r.role_arn : null]);
    if (r && r.instance_profile_arn) rows.push(['Instance profile ARN', 'instance-profile-arn', r.instance_profile_arn]);
    const dl = $('handoff');
    dl.replaceChildren();
    for (const [label, key, value] of rows) {
      const copyable = key !== 'actions' && key !== 'resource-arn';
      dl.append(
        h('dt', {}, label),
        Array.isArray(value)
          ? h('dd', { class: 'val', 'data-testid': `handoff-${key}` }, h('div', { class: 'chips' }, value.map((v) => h('span', { class: 'chip' }, v))))
          : h('dd', { class: value ? 'val' : 'val muted', 'data-testid': `handoff-${key}` }, value || (key === 'requestor-role-arn' ? 'not created here: the requestor creates its own' : '—')),
        h('dd', { class: 'act' }, value && copyable ? h('button', {
          type: 'button', class: 'btn small', 'data-testid': `copy-${key}`, 'aria-label': `Copy ${label}`,
          onclick: (e) => copyText(value, e.currentTarget),
        }, 'Copy') : ''),
      );
    }

    // What the requestor runs: the requestor side's hand-off when it was made here (it knows
    // who runs it), else the owner role's.
    const ho = (r && r.handoff) || (o && o.handoff) || null;
    $('handoff-cli').textContent = ho && ho.assume_role_command ? ho.assume_role_command : cliFallback(o);
    const who = r ? (people ? `as a member of ${r.principal_arn}` : `with credentials of ${r.role_arn}`)
      : o && o.requestor_role_arn ? `with credentials of ${o.requestor_role_arn}`
        : `with credentials of account ${o ? o.requestor_account_id : ''}`;
    $('handoff-note').textContent = r && !people
      ? `Run it ${who}. Code running as ${r.role_arn} (${r.service_principal}) makes the same AssumeRole call with its SDK, passing the External ID.`
      : r && r.principal_type === 'user' ? `Run it as the user ${r.principal_arn}.` : `Run it ${who}.`;

    const link = safeUrl(ho && ho.switch_role_url);
    $('handoff-switch-role-wrap').hidden = !link;
    const a = $('handoff-switch-role');
    a.href = link || '#';
    a.textContent = link;

    const profile = ho && typeof ho.aws_config === 'string' ? ho.aws_config : '';
    $('handoff-profile-wrap').hidden = !profile;
    $('handoff-profile').textContent = profile.replace(/\n+$/, '');
    $('handoff-profile-note').textContent = profile && ho.profile_name
      ? `Then pass --profile ${ho.profile_name} to the AWS CLI (try aws sts get-caller-identity --profile ${ho.profile_name}), or set AWS_PROFILE=${ho.profile_name} for any tool that uses an AWS SDK.` : '';

    const notes = ho && Array.isArray(ho.notes) ? ho.notes : [];
    $('handoff-notes-wrap').hidden = !notes.length;
    fill($('handoff-notes'), notes.map((n) => h('li', { 'data-testid': 'handoff-note' }, codeText(n))));

    const side = people ? `Requestor ${r.principal_type} policy` : 'Requestor role';
    const iac = [];
    if (o && o.handoff) {
      iac.push({ id: 'owner-cfn', label: 'Owner role · CloudFormation', text: o.handoff.cloudformation, filename: 'xacct-grant.cfn.json', type: 'application/json' });
      iac.push({ id: 'owner-tf', label: 'Owner role · Terraform', text: o.handoff.terraform, filename: 'xacct-grant.tf', type: 'text/plain' });
    }
    if (r && r.handoff) {
      iac.push({ id: 'requestor-cfn', label: `${side} · CloudFormation`, text: r.handoff.cloudformation, filename: 'xacct-requestor.cfn.json', type: 'application/json' });
      iac.push({ id: 'requestor-tf', label: `${side} · Terraform`, text: r.handoff.terraform, filename: 'xacct-requestor.tf', type: 'text/plain' });
    }
    renderIac(iac.filter((e) => typeof e.text === 'string' && e.text));
    renderCheckHint();
    // A verdict on another grant (the wizard went back and changed it) no longer applies.
    if (state.handoffCheckKey !== handoffKey()) {
      state.handoffCheckKey = null;
      $('handoff-verdict').replaceChildren();
      hideError('handoff-error');
    }
  }

  /** What the hand-off's check is about: the owner role and the requestor side made here. */
  function handoffKey() {
    const o = state.owner.result;
    const r = reqDone() ? state.req.result : null;
    return JSON.stringify([o && o.role_arn, o && o.external_id, r && r.principal_arn]);
  }

  /** The CloudFormation / Terraform tabs (WAI-ARIA tabs: arrows, Home and End move between them). */
  function renderIac(entries) {
    const card = $('handoff-iac-card');
    card.hidden = !entries.length;
    if (!entries.length) return;
    if (!entries.some((e) => e.id === state.iacTab)) state.iacTab = entries[0].id;
    const tabs = entries.map((e) => h('button', {
      type: 'button', role: 'tab', class: 'tab', id: `iac-tab-${e.id}`, 'aria-controls': `iac-panel-${e.id}`,
      'data-testid': `iac-tab-${e.id}`, onclick: () => selectIac(e.id, false),
      onkeydown: (ev) => {
        const i = entries.indexOf(e);
        const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: entries.length - 1 }[ev.key];
        if (to === undefined) return;
        ev.preventDefault();
        selectIac(entries[(to + entries.length) % entries.length].id, true);
      },
    }, e.label));
    const panels = entries.map((e) => h('div', {
      role: 'tabpanel', class: 'tabpanel', id: `iac-panel-${e.id}`, 'aria-labelledby': `iac-tab-${e.id}`, 'data-testid': `iac-panel-${e.id}`,
    },
    h('div', { class: 'iac-bar' },
      h('span', { class: 'mono small muted' }, e.filename),
      h('button', { type: 'button', class: 'btn small', 'data-testid': `copy-${e.id}`, 'aria-label': `Copy ${e.label}`, onclick: (ev) => copyText(e.text, ev.currentTarget) }, 'Copy'),
      h('button', { type: 'button', class: 'btn small', 'data-testid': `download-${e.id}`, 'aria-label': `Download ${e.label} as ${e.filename}`, onclick: () => download(e.text, e.filename, e.type) }, 'Download')),
    h('pre', { class: 'code', tabindex: '0', 'data-testid': `iac-code-${e.id}`, 'aria-label': e.label }, e.text)));
    $('handoff-iac-tabs').replaceChildren(...tabs);
    $('handoff-iac-panels').replaceChildren(...panels);
    selectIac(state.iacTab, false);
  }

  function selectIac(id, focus) {
    state.iacTab = id;
    for (const tab of $('handoff-iac-tabs').children) {
      const on = tab.id === `iac-tab-${id}`;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    }
    for (const panel of $('handoff-iac-panels').children) panel.hidden = panel.id !== `iac-panel-${id}`;
  }

  // ---------------------------------------------------------------- checking a grant

  const rootArn = (roleArn, account) => `arn:${(roleArn || '').split(':')[1] || 'aws'}:iam::${account}:root`;

  /** Who the hand-off's check asks about: the requestor side made here, else whom the owner role trusts. */
  function handoffPrincipal() {
    const o = state.owner.result;
    const r = reqDone() ? state.req.result : null;
    const ownerMfa = ownerRequiresMfa(o);
    const policyMfa = !!r && /MultiFactorAuthPresent/.test(JSON.stringify(r.policy || {}));
    if (r && r.principal_type === 'service') return { arn: r.role_arn, mfa: false, label: `the requestor role ${r.role_arn}` };
    if (r && r.principal_type === 'user') return { arn: r.principal_arn, mfa: ownerMfa || policyMfa, label: `the user ${r.principal_arn}` };
    const root = rootArn(o && o.role_arn, o ? o.requestor_account_id : '');
    if (r && r.principal_type === 'group') {
      return { arn: root, mfa: ownerMfa || policyMfa, label: `a member of ${r.principal_arn} (checked as the account root: a group is not a principal)` };
    }
    if (o && o.requestor_role_arn) return { arn: o.requestor_role_arn, mfa: false, label: `the requestor role ${o.requestor_role_arn}` };
    return { arn: root, mfa: ownerMfa, label: `the requestor account ${o ? o.requestor_account_id : ''}` };
  }

  function renderCheckHint() {
    const o = state.owner.result;
    const r = reqDone() ? state.req.result : null;
    const p = handoffPrincipal();
    $('handoff-check-hint').textContent = o
      ? `Evaluates the live owner role as AssumeRole by ${p.label}, with the External ID${p.mfa ? ' and MFA' : ''}${r ? ', and the requestor side’s policies' : ''}. Changes nothing.`
      : '';
    $('handoff-check').disabled = !o;
  }

  function checkOwnerBody(roleArn, principal, externalId, mfa) {
    const body = { role_arn: roleArn, principal_arn: principal, ...inAccount() };
    if (externalId) body.external_id = externalId;
    if (mfa) body.mfa = true;
    return body;
  }

  async function checkHandoff() {
    const o = state.owner.result;
    if (!o) return;
    const r = reqDone() ? state.req.result : null;
    const btn = $('handoff-check');
    const out = $('handoff-verdict');
    hideError('handoff-error');
    out.replaceChildren(h('p', { class: 'muted', 'data-testid': 'checking' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Checking…'));
    setBusy(btn, true);
    const p = handoffPrincipal();
    state.handoffCheckKey = handoffKey();
    const calls = [api('POST', '/api/check-owner-role', checkOwnerBody(o.role_arn, p.arn, o.external_id, p.mfa))];
    if (r) {
      const body = { owner_role_arn: o.role_arn };
      if (r.principal_type === 'group') body.group_name = r.group_name;
      else if (r.principal_type === 'user') body.user_name = r.user_name;
      else body.role_arn = r.role_arn;
      calls.push(api('POST', '/api/check-requestor-role', body));
    }
    const [own, req] = await Promise.allSettled(calls);
    setBusy(btn, false);
    btn.disabled = false;
    const failed = [own, req].find((x) => x && x.status === 'rejected');
    if (failed) {
      out.replaceChildren();
      showError(5, 'handoff-error', failed.reason);
      return;
    }
    const verdict = renderVerdict(own.value, req ? req.value : null, p.label);
    out.replaceChildren(verdict);
    announce(`Checked: ${verdict.dataset.works === 'true' ? 'works' : 'does not work'}.`);
  }

  const DECISION_LABEL = { allow: 'allow', implicit_deny: 'implicit deny', explicit_deny: 'explicit deny' };
  const decisionBadge = (d) => h('span', { class: `badge dec-${d}`, 'data-testid': 'decision' }, DECISION_LABEL[d] || d);

  /** One verdict from the owner role's check and, when there is one, the requestor side's. */
  function renderVerdict(own, req, who) {
    const problems = req && Array.isArray(req.problems) ? req.problems : [];
    const works = own.can_assume === true && (!req || (req.ok !== false && problems.length === 0));
    const reasons = [];
    if (own.can_assume !== true) {
      reasons.push(h('li', { 'data-testid': 'verdict-reason' }, h('b', {}, 'Owner role: '), codeText(own.reason || 'AssumeRole is denied.'),
        own.statement && !String(own.reason).includes(own.statement) ? h('span', { class: 'fcode' }, codeText(own.statement)) : null));
    }
    for (const pr of problems) {
      reasons.push(h('li', { 'data-testid': 'verdict-reason' }, h('b', {}, 'Requestor side: '), codeText(pr.message), h('span', { class: 'fcode' }, pr.code)));
    }
    const checks = Array.isArray(own.assume_checks) ? own.assume_checks : [];
    const allowed = Array.isArray(own.allowed_actions) ? own.allowed_actions : [];
    const actions = Array.isArray(own.actions) ? own.actions : [];
    const drift = Array.isArray(own.drift) ? own.drift : [];
    const warnings = [];
    for (const c of checks.slice(1)) {
      if (c.decision === 'allow') warnings.push(`AssumeRole ${c.case} is allowed: the External ID does not protect this role.`);
    }
    if (own.can_assume === true && !allowed.length) warnings.push('A session of the role may do nothing with the resource.');
    if (drift.length) warnings.push(`The role drifted from what xacct wrote: ${drift.length} difference${drift.length === 1 ? '' : 's'} below.`);

    const checkRows = checks.map((c, i) => {
      const expected = i === 0 ? c.decision === 'allow' : c.decision !== 'allow';
      return h('tr', { 'data-testid': 'assume-check', 'data-case': c.case, 'data-decision': c.decision },
        h('td', {}, c.case),
        h('td', {}, decisionBadge(c.decision)),
        h('td', {}, h('span', { class: expected ? 'exp-good' : 'exp-bad' }, expected ? 'as expected' : 'not as expected')),
        h('td', { class: 'reason' }, codeText(c.reason || ''),
          c.statement && !String(c.reason).includes(c.statement) ? h('span', { class: 'fcode' }, codeText(c.statement)) : null));
    });
    const byDecision = actions.reduce((m, a) => { m[a.decision] = (m[a.decision] || 0) + 1; return m; }, {});
    return h('div', { class: `verdict ${works ? 'ok' : 'bad'}`, 'data-testid': 'verdict', 'data-works': String(works) },
      h('div', { class: 'verdict-head' },
        h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, works ? '✓' : '✗'),
        h('strong', { class: 'verdict-title', 'data-testid': 'verdict-title' }, works ? 'Works' : 'Does not work'),
        h('span', { class: 'muted small' }, `AssumeRole by ${who}${req ? '; requestor side ' : ''}`, req ? h('span', { class: 'mono' }, req.principal_arn || '') : null)),
      reasons.length ? h('ul', { class: 'reasons', 'data-testid': 'verdict-reasons' }, reasons) : null,
      warnings.length ? h('ul', { class: 'verdict-warnings', 'data-testid': 'verdict-warnings' }, warnings.map((w) => h('li', {}, w))) : null,
      h('div', { class: 'verdict-grid' },
        h('section', { class: 'verdict-part' },
          h('h3', {}, 'Assuming the role'),
          h('table', { class: 'mini', 'data-testid': 'assume-checks' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Call'), h('th', { scope: 'col' }, 'Decision'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Expected')), h('th', { scope: 'col' }, 'Why'))),
            h('tbody', {}, checkRows))),
        h('section', { class: 'verdict-part' },
          h('h3', {}, `Allowed actions (${allowed.length})`),
          allowed.length
            ? h('div', { class: 'chips', 'data-testid': 'allowed-actions' }, allowed.map((a) => h('span', { class: 'chip mono', 'data-testid': 'allowed-action' }, a)))
            : h('p', { class: 'muted', 'data-testid': 'allowed-actions' }, 'None.'),
          actions.length ? h('details', { class: 'all-actions' },
            h('summary', {}, `Every action evaluated (${actions.length}: ${Object.entries(byDecision).map(([d, n]) => `${n} ${DECISION_LABEL[d] || d}`).join(', ')})`),
            h('table', { class: 'mini' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'On'), h('th', { scope: 'col' }, 'Decision'), h('th', { scope: 'col' }, 'Statement'))),
              h('tbody', {}, actions.map((a) => h('tr', {}, h('td', { class: 'mono' }, a.action), h('td', { class: 'mono arn' }, a.resource), h('td', {}, decisionBadge(a.decision)), h('td', { class: 'fcode' }, codeText(a.statement || '—'))))))) : null),
        h('section', { class: 'verdict-part' },
          h('h3', {}, 'Drift'),
          drift.length
            ? h('ul', { class: 'drift', 'data-testid': 'drift' }, drift.map((d) => h('li', { 'data-testid': 'drift-item', 'data-document': d.document, 'data-change': d.change },
              h('span', { class: `badge drift-${d.change}` }, d.change), h('span', { class: 'mono small' }, d.document), ' ', codeText(d.message),
              'expected' in d || 'actual' in d ? h('details', {},
                h('summary', {}, 'Expected and actual'),
                'expected' in d ? [h('div', { class: 'small muted' }, 'xacct would write'), jsonPre(d.expected)] : null,
                'actual' in d ? [h('div', { class: 'small muted' }, 'the role has'), jsonPre(d.actual)] : null) : null)))
            : h('p', { class: 'muted', 'data-testid': 'no-drift' }, 'None: the role is exactly what xacct wrote.')),
        req ? h('section', { class: 'verdict-part', 'data-testid': 'requestor-check' },
          h('h3', {}, 'Requestor side'),
          h('p', {}, h('span', { class: 'mono' }, req.principal_arn || ''), ': ',
            problems.length ? `${problems.length} problem${problems.length === 1 ? '' : 's'} (above).` : 'may assume the owner role, and nothing else.'),
          h('p', { class: 'muted small' }, `Policies read: ${Object.keys(req.policies || {}).join(', ') || 'none'}.`)) : null));
  }

  function jsonPre(value) {
    const pre = h('pre', { class: 'json', tabindex: '0' });
    pre.innerHTML = highlightJson(value);
    return pre;
  }

  // ---------------------------------------------------------------- grants page

  /** Switches between the wizard and the grants page (not a step: the wizard keeps its state). */
  function setView(view) {
    state.view = view;
    const grants = view === 'grants';
    const page = view !== 'wizard';
    $('page-grants').hidden = !grants;
    $('page-simulate').hidden = view !== 'simulate';
    document.querySelector('.stepper').hidden = page;
    for (let i = 1; i <= 5; i++) $(`step-${i}`).hidden = page || i !== state.step;
    for (const [id, v] of [['nav-wizard', 'wizard'], ['nav-grants', 'grants'], ['nav-simulate', 'simulate']]) {
      if (v === view) $(id).setAttribute('aria-current', 'page'); else $(id).removeAttribute('aria-current');
    }
    const hash = page ? `#${view}` : '';
    if (window.location.hash !== hash) history.replaceState(null, '', `${window.location.pathname}${window.location.search}${hash}`);
    measureChrome();
  }

  function openGrants() {
    setView('grants');
    window.scrollTo(0, 0);
    const title = $('grants-title');
    title.setAttribute('tabindex', '-1');
    title.focus({ preventScroll: true });
    if (!state.grants.loaded && !state.grants.loading) loadGrants(false);
  }

  // ---------------------------------------------------------------- simulate page

  function openSimulate() {
    setView('simulate');
    window.scrollTo(0, 0);
    $('sim-principal').focus({ preventScroll: true });
  }

  /** A pasted policy, or null when the box is empty; throws with the box's name when it is not JSON. */
  function pastedPolicy(id, name) {
    const text = $(id).value.trim();
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { throw new Error(`${name} is not valid JSON: ${e.message}`); }
  }

  async function runSimulation(e) {
    e.preventDefault();
    const box = $('simulate-error');
    box.hidden = true;
    let body;
    try {
      const context = {};
      for (const line of $('sim-context').value.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const at = line.indexOf('=');
        if (at < 1) throw new Error(`context line \`${line}\` is not key=value`);
        (context[line.slice(0, at).trim()] ||= []).push(line.slice(at + 1));
      }
      const identity = pastedPolicy('sim-identity', 'the identity policy');
      const scp = pastedPolicy('sim-scp', 'the service control policy');
      body = {
        principal: $('sim-principal').value.trim(),
        action: $('sim-action').value.trim(),
        resource: $('sim-resource').value.trim(),
        resource_account: $('sim-resource-account').value.trim() || null,
        context,
        identity_policies: identity ? [identity] : [],
        resource_policy: pastedPolicy('sim-resource-policy', 'the resource policy'),
        boundary: pastedPolicy('sim-boundary', 'the permissions boundary'),
        session_policy: pastedPolicy('sim-session', 'the session policy'),
        scps: scp ? [scp] : [],
      };
    } catch (err) {
      box.textContent = err.message;
      box.hidden = false;
      return;
    }
    try {
      const v = await api('POST', '/api/simulate', body);
      const out = $('sim-verdict');
      const title = v.allowed ? 'Allowed' : v.decision === 'explicit_deny' ? 'Denied (explicit deny)' : 'Denied (implicit deny)';
      out.className = `card result ${v.allowed ? 'ok' : 'bad'}`;
      out.dataset.decision = v.decision;
      out.replaceChildren(
        h('div', { class: 'title', 'data-testid': 'sim-title' }, title),
        h('div', { 'data-testid': 'sim-reason' }, v.reason),
        h('ul', { class: 'changes access' }, ...(v.statements || []).map((st) => h('li', { 'data-testid': 'sim-statement' }, `${st.policy}: ${st.sid ? `Sid ${st.sid}` : `statement #${st.number}`}`))));
      out.hidden = false;
    } catch (err) {
      box.textContent = err.message || String(err);
      box.hidden = false;
    }
  }

  function grantFilters() {
    return {
      resource_arn: $('grants-filter-resource').value.trim(),
      requestor_account_id: $('grants-filter-account').value.trim(),
    };
  }

  function validateGrantFilters() {
    const f = grantFilters();
    const arnMsg = !f.resource_arn || /^arn:[\w-]+:[\w-]+:[\w-]*:\d{0,12}:.+$/.test(f.resource_arn) ? '' : 'That does not look like an ARN: arn:partition:service:region:account:resource';
    const acctMsg = !f.requestor_account_id || ACCOUNT_RE.test(f.requestor_account_id) ? '' : 'Must be exactly 12 digits.';
    fieldError('grants-filter-resource', arnMsg);
    fieldError('grants-filter-account', acctMsg);
    if (arnMsg) $('grants-filter-resource').focus(); else if (acctMsg) $('grants-filter-account').focus();
    return !arnMsg && !acctMsg;
  }

  async function loadGrants(more) {
    const g = state.grants;
    const seq = ++g.seq;
    if (!more) {
      g.items = [];
      g.cursor = null;
      g.loaded = false;
      g.filters = { ...grantFilters(), ...inAccount() };
      g.checks = new Map();
    }
    g.error = false;
    g.loading = true;
    hideError('grants-error');
    renderGrants();
    const btn = $('grants-load-more');
    if (more) setBusy(btn, true);
    try {
      const data = await api('GET', `/api/list-grants${query({ ...g.filters, cursor: more ? g.cursor : '' })}`);
      if (seq !== g.seq) return;
      const seen = new Set(g.items.map((x) => x.role_arn));
      g.items.push(...(Array.isArray(data.grants) ? data.grants : []).filter((x) => x && !seen.has(x.role_arn)));
      g.cursor = data.next_cursor || null;
      g.loaded = true;
    } catch (err) {
      if (seq !== g.seq) return;
      g.error = true;
      showError('grants', 'grants-error', err);
    } finally {
      if (seq === g.seq) {
        g.loading = false;
        setBusy(btn, false);
        btn.disabled = false;
        renderGrants();
      }
    }
  }

  function when(iso, never) {
    if (!iso) return h('span', { class: 'muted' }, never);
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return h('span', {}, iso);
    const pad = (n) => String(n).padStart(2, '0');
    const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
    return h('time', { datetime: iso, title: iso }, text);
  }

  function renderGrants() {
    const g = state.grants;
    const tbody = $('grant-rows');
    const rows = [];
    for (const grant of g.items) {
      rows.push(grantRow(grant));
      const detail = g.checks.get(grant.role_arn);
      if (detail) rows.push(detail);
    }
    tbody.replaceChildren(...rows);
    $('grants-loading').hidden = !g.loading;
    const empty = $('grants-empty');
    const filtered = !!(g.filters.resource_arn || g.filters.requestor_account_id);
    empty.hidden = g.loading || !g.loaded || g.items.length > 0;
    empty.textContent = g.cursor
      ? 'No grant among the roles read so far: load more to read the next ones.'
      : filtered ? 'No grant matches these filters.' : 'No grants yet: share a resource to make one.';
    const count = $('grants-count');
    count.textContent = !g.loaded ? '' : `${g.items.length} grant${g.items.length === 1 ? '' : 's'}${g.cursor ? ' loaded, more may follow' : ''}${filtered ? ' matching the filters' : ''}`;
    $('grants-load-more').hidden = !g.cursor;
  }

  function grantRow(grant) {
    const n = (grant.actions || []).length;
    return h('tr', { 'data-testid': 'grant-row', 'data-role-arn': grant.role_arn, 'data-role-name': grant.role_name },
      h('td', { class: 'td-name' }, h('span', { 'data-testid': 'grant-role-name' }, grant.role_name),
        grant.require_mfa ? h('span', { class: 'chip tag-mfa', title: 'Only from a session signed in with MFA' }, 'MFA') : null,
        h('div', { class: 'td-arn' }, grant.role_arn)),
      h('td', { class: 'td-arn', 'data-testid': 'grant-resource' }, grant.resource_arn),
      h('td', { class: 'td-account' }, h('span', { class: 'mono', 'data-testid': 'grant-account' }, grant.requestor_account_id),
        grant.requestor_role_arn ? h('div', { class: 'td-arn', title: 'Only this role may assume the grant' }, grant.requestor_role_arn) : null),
      h('td', { 'data-testid': 'grant-actions', 'data-count': String(n) }, n
        ? h('details', { class: 'grant-actions' }, h('summary', {}, `${n} action${n === 1 ? '' : 's'}`),
          h('div', { class: 'chips' }, grant.actions.map((a) => h('span', { class: 'chip mono' }, a))))
        : h('span', { class: 'danger-text', title: 'The role has no xacct-grant policy left' }, 'none')),
      h('td', { class: 'td-date', 'data-testid': 'grant-created' }, when(grant.created, '—')),
      h('td', { class: 'td-date', 'data-testid': 'grant-last-used' }, when(grant.last_used, 'never')),
      h('td', { class: 'td-acts' },
        h('button', { type: 'button', class: 'btn small', 'data-testid': 'grant-check', 'aria-label': `Check ${grant.role_name}`, onclick: (e) => checkGrantRow(grant, e.currentTarget) }, 'Check'),
        h('button', { type: 'button', class: 'btn small danger-outline', 'data-testid': 'grant-revoke', 'aria-label': `Revoke ${grant.role_name}`, onclick: (e) => openRevoke(grant, e.currentTarget) }, 'Revoke')));
  }

  /** Checks one grant as its requestor (the role it names, else the account root) with its External ID; the verdict shows under the row. */
  async function checkGrantRow(grant, btn) {
    const g = state.grants;
    const principal = grant.requestor_role_arn || rootArn(grant.role_arn, grant.requestor_account_id);
    const who = grant.requestor_role_arn ? `the requestor role ${principal}` : `the requestor account ${grant.requestor_account_id}`;
    const live = h('div', { class: 'grant-check' },
      h('p', { class: 'muted', 'data-testid': 'checking' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Checking ${grant.role_name}…`));
    const box = h('div', { class: 'error-box', role: 'alert', 'data-testid': 'grant-check-error', hidden: true });
    const close = h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Hide the check of ${grant.role_name}`, onclick: () => hideCheck(grant) }, 'Hide');
    const detail = h('tr', { class: 'grant-detail', 'data-testid': 'grant-check-row', 'data-role-arn': grant.role_arn },
      h('td', { colspan: '7' }, h('div', { class: 'grant-detail-bar' }, close), box, live));
    const old = g.checks.get(grant.role_arn);
    g.checks.set(grant.role_arn, detail);
    if (old && old.isConnected) old.replaceWith(detail);
    else {
      const row = btn.closest('tr');
      row.after(detail);
    }
    setBusy(btn, true);
    try {
      const own = await api('POST', '/api/check-owner-role', checkOwnerBody(grant.role_arn, principal, grant.external_id, grant.require_mfa));
      const verdict = renderVerdict(own, null, `${who}${grant.external_id ? ' with the External ID' : ''}${grant.require_mfa ? ' and MFA' : ''}`);
      live.replaceChildren(verdict);
      announce(`${grant.role_name}: ${verdict.dataset.works === 'true' ? 'works' : 'does not work'}. The details follow its row.`);
    } catch (err) {
      live.replaceChildren();
      showError('grants', box, err);
    } finally {
      setBusy(btn, false);
      btn.disabled = false;
    }
  }

  function hideCheck(grant) {
    const detail = state.grants.checks.get(grant.role_arn);
    state.grants.checks.delete(grant.role_arn);
    if (detail) detail.remove();
    const btn = document.querySelector(`[data-testid="grant-row"][data-role-arn="${CSS.escape(grant.role_arn)}"] [data-testid="grant-check"]`);
    if (btn) btn.focus();
  }

  // Revoking: a modal dialog that names the role and what goes; Revoke stays disabled until the
  // role's name is typed.
  let revoking = null; // {grant, opener, done}

  function openRevoke(grant, opener) {
    const dialog = $('revoke-dialog');
    revoking = { grant, opener, done: false };
    $('revoke-role-name').textContent = grant.role_name;
    $('revoke-confirm-name').textContent = grant.role_name;
    const n = (grant.actions || []).length;
    const mono = (t) => h('span', { class: 'mono' }, t);
    fill($('revoke-desc'),
      h('p', {}, 'This deletes, in the owner account ', mono((state.setup && state.setup.owner_account) || grant.role_arn.split(':')[4]), ':'),
      h('ul', { class: 'revoke-list', 'data-testid': 'revoke-what' },
        h('li', {}, 'its inline policies, among them ', mono('xacct-grant'), n ? ` (${n} action${n === 1 ? '' : 's'} on ` : '', n ? mono(grant.resource_arn) : '', n ? ')' : ''),
        h('li', {}, 'the attachments of managed policies someone attached to it by hand (the managed policies themselves stay)'),
        h('li', {}, 'the role ', mono(grant.role_arn))),
      h('p', {}, 'Account ', mono(grant.requestor_account_id), grant.requestor_role_arn ? [' (', mono(grant.requestor_role_arn), ')'] : '',
        ' loses this access at once, sessions already started too. It cannot be undone: sharing the resource again makes a new role.'),
      h('p', { class: 'muted small' }, 'The requestor side (its role, or the policy on a group or user) is in the requestor account and is not touched: it can then assume nothing and can be removed there.'));
    $('revoke-confirm-input').value = '';
    $('revoke-confirm').disabled = true;
    hideError('revoke-error');
    dialog.showModal();
    $('revoke-confirm-input').focus();
  }

  function revokeTyped() {
    return !!revoking && $('revoke-confirm-input').value.trim() === revoking.grant.role_name;
  }

  async function confirmRevoke(e) {
    e.preventDefault();
    if (!revokeTyped()) { $('revoke-confirm-input').focus(); return; }
    const { grant } = revoking;
    const btn = $('revoke-confirm');
    const cancel = $('revoke-cancel');
    hideError('revoke-error');
    setBusy(btn, true);
    cancel.disabled = true;
    try {
      const resp = await api('POST', '/api/revoke-grant', { role_arn: grant.role_arn, ...inAccount() });
      const removed = Array.isArray(resp.removed) ? resp.removed : [];
      const g = state.grants;
      g.items = g.items.filter((x) => x.role_arn !== grant.role_arn);
      g.checks.delete(grant.role_arn);
      renderGrants();
      const res = $('grants-result');
      res.className = `result ${resp.changed ? 'ok' : 'same'}`;
      fill(res,
        h('span', { class: 'title', 'data-testid': 'grants-result-title' }, resp.changed ? `Revoked ${grant.role_name}` : `${grant.role_name} was already gone: nothing was removed`),
        removed.length ? h('div', {}, 'Removed, in this order:', h('ul', { class: 'removed', 'data-testid': 'revoke-removed' }, removed.map((x) => h('li', { 'data-testid': 'removed-item' }, codeText(x))))) : null);
      res.hidden = false;
      // The hand-off's verdict on this grant no longer holds.
      if (state.owner.result && state.owner.result.role_arn === grant.role_arn) {
        $('handoff-verdict').replaceChildren();
        hideError('handoff-error');
      }
      revoking.done = true;
      $('revoke-dialog').close();
    } catch (err) {
      showError('grants', 'revoke-error', err);
      $('revoke-confirm-input').focus();
    } finally {
      setBusy(btn, false);
      btn.disabled = !revokeTyped();
      cancel.disabled = false;
    }
  }

  /** After the dialog closes (Cancel, Esc or done): focus goes back where it makes sense. */
  function revokeClosed() {
    const r = revoking;
    revoking = null;
    if (!r) return;
    if (r.done) $('grants-result').focus();
    else if (r.opener && r.opener.isConnected) r.opener.focus();
  }

  // ---------------------------------------------------------------- wiring

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  function wire() {
    for (let i = 1; i <= 5; i++) $(`step-tab-${i}`).addEventListener('click', () => go(i));

    // step 1
    $('resource-search').addEventListener('input', debounce(renderResources, 80));
    $('filter-service').addEventListener('change', () => loadResources(false));
    $('filter-region').addEventListener('change', () => loadResources(false));
    $('resource-reload').addEventListener('click', () => loadResources(false));
    $('load-more').addEventListener('click', () => loadResources(true));
    $('arn-form').addEventListener('submit', usePastedArn);
    $('arn-input').addEventListener('input', () => fieldError('arn-input', ''));
    $('resource-next').addEventListener('click', toActions);

    // step 2
    $('actions-filter').addEventListener('input', debounce(renderActions, 80));
    $('allow-pm').addEventListener('change', (e) => {
      state.allowPm = e.target.checked;
      if (!state.allowPm && state.perms) {
        for (const a of state.perms.actions) if (a.access_level === PM) state.selected.delete(a.action);
        for (const cb of document.querySelectorAll('.group.pm .action-list input')) cb.checked = false;
      }
      if (state.allowPm) state.expanded[PM] = true;
      renderActions();
    });
    $('actions-back').addEventListener('click', () => go(1));
    $('actions-next').addEventListener('click', () => go(3));

    // step 3
    $('owner-form').addEventListener('submit', ownerPreview);
    $('owner-form').addEventListener('input', () => refreshOwnerButtons());
    $('owner-form').addEventListener('change', () => refreshOwnerButtons());
    const acct = $('requestor-account');
    // Validate on leaving the field, except when leaving it for a button of the form: the
    // message would move the button under the pointer and swallow the click (the button
    // validates anyway). Safari does not focus buttons, hence the pointer flag.
    let pressing = false;
    const actions = $('owner-form').querySelector('.form-actions');
    actions.addEventListener('pointerdown', () => { pressing = true; });
    document.addEventListener('pointerup', () => { setTimeout(() => { pressing = false; }, 0); });
    acct.addEventListener('blur', (e) => {
      const to = e.relatedTarget;
      if (pressing || (to && to.tagName === 'BUTTON' && to.form === acct.form)) return;
      if (acct.value.trim()) validateAccount(true);
    });
    acct.addEventListener('input', () => { if (acct.getAttribute('aria-invalid') === 'true') validateAccount(true); });
    for (const id of ['requestor-role-arn', 'external-id', 'owner-role-name', 'max-session']) {
      $(id).addEventListener('input', () => fieldError(id, ''));
    }
    $('use-requestor-account').addEventListener('click', () => {
      acct.value = state.setup.requestor_account;
      validateAccount(true);
      refreshOwnerButtons();
      acct.focus();
    });
    $('owner-create').addEventListener('click', ownerCreate);
    $('owner-ack').addEventListener('change', () => refreshOwnerButtons());
    $('requestor-ack').addEventListener('change', () => refreshReqButtons());
    $('owner-back').addEventListener('click', () => go(2));
    $('owner-next').addEventListener('click', () => go(4));

    // step 4
    $('requestor-form').addEventListener('submit', reqPreview);
    $('requestor-form').addEventListener('input', () => {
      fieldError('requestor-role-name', ''); fieldError('requestor-principal-name', ''); fieldError('requestor-require-mfa', '');
      refreshReqButtons();
    });
    $('requestor-form').addEventListener('change', (e) => {
      if (e.target.name === 'requestor_kind') { clearFieldErrors(4); hideError('requestor-error'); renderReqKind(); }
      refreshReqButtons();
    });
    $('requestor-create').addEventListener('click', reqCreate);
    $('requestor-back').addEventListener('click', () => go(3));
    $('requestor-skip').addEventListener('click', () => { state.req.skipped = true; go(5); });
    $('requestor-next').addEventListener('click', () => go(5));

    // step 5
    $('handoff-back').addEventListener('click', () => go(4));
    $('handoff-check').addEventListener('click', checkHandoff);
    $('start-over').addEventListener('click', () => {
      state.resource = null;
      resetFrom(2);
      for (const id of ['requestor-account', 'requestor-role-arn', 'external-id', 'owner-role-name', 'requestor-role-name', 'requestor-principal-name', 'arn-input']) $(id).value = '';
      $('require-mfa').checked = false;
      $('requestor-require-mfa').checked = false;
      document.querySelector('input[name="requestor_kind"][value="service"]').checked = true;
      hideError('handoff-error');
      $('handoff-verdict').replaceChildren();
      $('max-session').value = '3600';
      clearFieldErrors(1); clearFieldErrors(3); clearFieldErrors(4);
      renderResources();
      go(1);
    });

    // pages
    const toWizard = () => go(reachable(state.step) ? state.step : 1);
    $('nav-wizard').addEventListener('click', toWizard);
    $('nav-grants').addEventListener('click', openGrants);
    $('nav-simulate').addEventListener('click', openSimulate);
    $('simulate-form').addEventListener('submit', runSimulation);
    $('grants-back').addEventListener('click', toWizard);
    $('grants-reload').addEventListener('click', () => { if (validateGrantFilters()) loadGrants(false); });
    $('grants-load-more').addEventListener('click', () => loadGrants(true));
    $('grants-filter').addEventListener('submit', (e) => { e.preventDefault(); if (validateGrantFilters()) loadGrants(false); });
    $('grants-clear').addEventListener('click', () => {
      $('grants-filter-resource').value = '';
      $('grants-filter-account').value = '';
      clearFieldErrors('grants');
      loadGrants(false);
    });
    for (const id of ['grants-filter-resource', 'grants-filter-account']) $(id).addEventListener('input', () => fieldError(id, ''));
    $('revoke-form').addEventListener('submit', confirmRevoke);
    $('revoke-confirm-input').addEventListener('input', () => { $('revoke-confirm').disabled = !revokeTyped(); });
    $('revoke-cancel').addEventListener('click', () => $('revoke-dialog').close());
    $('revoke-dialog').addEventListener('cancel', (e) => { if ($('revoke-confirm').classList.contains('busy')) e.preventDefault(); });
    $('revoke-dialog').addEventListener('close', revokeClosed);

    // copy buttons on code blocks
    document.addEventListener('click', (e) => {
      const btn = e.target.closest('[data-copy-from]');
      if (btn) copyText($(btn.dataset.copyFrom).textContent, btn);
    });
  }

  function measureChrome() {
    const stepper = document.querySelector('.stepper');
    const px = document.querySelector('.topbar').offsetHeight + (stepper.hidden ? 0 : stepper.offsetHeight);
    document.documentElement.style.setProperty('--chrome', `${px}px`);
  }

  function start() {
    measureChrome();
    window.addEventListener('resize', debounce(measureChrome, 100));
    fillRegions([]);
    wire();
    renderStepper();
    renderSelected();
    loadSetup();
    loadResources(false);
    if (window.location.hash === '#grants') openGrants();
    if (window.location.hash === '#simulate') openSimulate();
    document.documentElement.dataset.ready = 'true';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
