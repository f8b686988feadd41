// The demo page: a chat client of the fake Telegram. Each tab is one person
// (?as=KEY); the chat arrives as Server-Sent Events from /api/events, and
// typing, pressing buttons and uploading go to the small JSON API.
'use strict';

const $ = (sel) => document.querySelector(sel);

const state = {
  key: null,      // the person this tab is
  me: null,       // that person, as /api/events describes them
  people: null,   // /api/people
  msgs: new Map(),// message id → message
  es: null,       // the EventSource
  clock: null,    // the last clock state
  clockAt: 0,     // Date.now() when it arrived
  typingTimer: 0,
};

// ---------- helpers

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) throw new Error((data && data.error) || ('请求失败（' + resp.status + '）'));
  return data;
}

function toast(text, kind, ms) {
  const t = el('div', 'toast' + (kind ? ' ' + kind : ''), text);
  $('#toasts').append(t);
  setTimeout(() => t.remove(), ms || (kind === 'error' ? 6000 : 3500));
}

function colorOf(id) {
  return 'c' + (Math.abs(Number(id) || 0) % 8);
}

function avatar(name, id, big) {
  const a = el('div', 'avatar ' + colorOf(id) + (big ? ' big' : ''), (name || '?').slice(0, 1));
  return a;
}

// Times arrive in China Standard Time (RFC 3339 with +08:00): read the
// fields as written, whatever the browser's zone.
const WEEK = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
function parts(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || '');
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { y, mo, d, hh: m[4], mm: m[5], day: m[1] + m[2] + m[3], wd: WEEK[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()] };
}

function sizeText(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
  return (n / 1024 / 1024).toFixed(1) + ' MB';
}

// ---------- people

const ROLE = { admin: '管理员', office: '市双拥办工作群', contact: '填报联系人', guest: '新用户' };

async function loadPeople() {
  try {
    state.people = await api('GET', '/api/people');
    renderPeople();
    const me = state.me && state.people.people.find((p) => p.key === state.me.key);
    if (me && me.status !== state.me.status) {
      Object.assign(state.me, { role: me.role, unit: me.unit, status: me.status, done: me.done });
      renderIam();
    }
  } catch (e) {
    toast('无法读取身份列表：' + e.message, 'error');
  }
}

function personButton(p, title, sub, status) {
  const b = el('button', 'person');
  b.type = 'button';
  b.dataset.key = p.key;
  if (p.key === state.key) b.classList.add('active');
  b.append(avatar(p.role === 'office' ? '群' : p.name, p.user_id));
  const t = el('div', 'p-text');
  const line = el('div', 'p-sub', sub);
  if (status) {
    const cls = p.done ? 'done' : status.startsWith('填写中') || status.includes('修改') ? 'busy' : '';
    line.append(' · ', el('span', 'state ' + cls, (p.done ? '✓ ' : '') + status));
  }
  t.append(el('div', 'p-name', title), line);
  b.append(t);
  b.addEventListener('click', () => choose(p.key));
  return b;
}

function renderPeople() {
  const nav = $('#people');
  const q = $('#search').value.trim();
  const match = (...s) => !q || s.some((x) => x && x.includes(q));
  nav.replaceChildren();
  if (!state.people) return;
  const ps = state.people.people;
  const office = ps.filter((p) => p.role === 'admin' || p.role === 'office');
  if (office.some((p) => match(p.name, ROLE[p.role]))) {
    nav.append(el('div', 'group-title', '市双拥办'));
    for (const p of office) {
      if (!match(p.name, ROLE[p.role])) continue;
      if (p.role === 'admin') nav.append(personButton(p, p.name + '（管理员）', '私聊机器人 · 管理单位、邀请、截止时间'));
      else nav.append(personButton(p, p.chat_title, '以群成员 ' + p.name + ' 的身份 · 提交通知、汇总、导出'));
    }
  }
  const cats = [];
  const byCat = new Map();
  const add = (cat, node) => {
    if (!byCat.has(cat)) { byCat.set(cat, []); cats.push(cat); }
    byCat.get(cat).push(node);
  };
  for (const p of ps) {
    if (p.role !== 'contact' || !match(p.unit, p.name, p.category)) continue;
    add(p.category, personButton(p, p.unit, p.name, p.status));
  }
  for (const u of state.people.unbound) {
    if (!match(u.unit, u.category)) continue;
    const b = el('button', 'person unbound');
    b.type = 'button';
    b.append(avatar(u.unit, 0));
    const t = el('div', 'p-text');
    t.append(el('div', 'p-name', u.unit), el('div', 'p-sub', '未绑定联系人'));
    b.append(t);
    b.addEventListener('click', () => toast('“' + u.unit + '”还没有联系人：以管理员身份发送 /invite ' + u.unit + '，再点击机器人给出的邀请链接，即可扮演新联系人。'));
    add(u.category, b);
  }
  for (const cat of cats) {
    nav.append(el('div', 'group-title', cat));
    nav.append(...byCat.get(cat));
  }
  const guests = ps.filter((p) => p.role === 'guest' && match(p.name));
  if (guests.length) {
    nav.append(el('div', 'group-title', '其他用户（未绑定单位）'));
    for (const p of guests) nav.append(personButton(p, p.name, '打开过邀请链接的新用户'));
  }
}

// ---------- choosing a person

function choose(key) {
  if (!key) return;
  const url = new URL(location.href);
  url.searchParams.set('as', key);
  history.replaceState(null, '', url);
  connect(key);
  renderPeople();
}

function connect(key) {
  if (state.es) state.es.close();
  state.key = key;
  state.me = null;
  state.msgs.clear();
  $('#welcome').hidden = true;
  $('#chat').hidden = false;
  if (window.matchMedia('(max-width: 820px)').matches) $('#side').classList.add('closed');
  $('#messages').replaceChildren();
  $('#newtab').href = '/?as=' + encodeURIComponent(key);
  document.body.dataset.ready = '';
  const es = new EventSource('/api/events?as=' + encodeURIComponent(key));
  state.es = es;
  es.addEventListener('snapshot', (e) => {
    const d = JSON.parse(e.data);
    state.me = d.person;
    state.msgs.clear();
    for (const m of d.messages || []) state.msgs.set(m.id, m);
    renderHeader();
    renderAll();
    setClock(d.clock);
    document.body.dataset.ready = '1';
  });
  es.addEventListener('message', (e) => upsert(JSON.parse(e.data)));
  es.addEventListener('deleted', (e) => {
    const { id } = JSON.parse(e.data);
    state.msgs.delete(id);
    const node = msgNode(id);
    if (node) node.remove();
  });
  es.addEventListener('toast', (e) => {
    const d = JSON.parse(e.data);
    if (d.alert) alert(d.text); else toast(d.text);
  });
  es.addEventListener('action', () => typing());
  es.addEventListener('clock', (e) => setClock(JSON.parse(e.data)));
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) toast('与演示服务器的连接已断开，请刷新页面。', 'error');
  };
}

function renderHeader() {
  const p = state.me;
  const group = p.chat_kind === 'group';
  $('#chat-avatar').replaceWith(Object.assign(avatar(group ? '群' : '拥', group ? 3 : 0, true), { id: 'chat-avatar' }));
  $('#chat-title').textContent = p.chat_title;
  $('#chat-sub').textContent = group ? '群组 · 机器人与市双拥办成员' : '机器人';
  $('#chat-sub').classList.remove('typing');
  renderIam();
  document.title = p.name + ' · 双拥填报机器人演示';
  renderChips();
}

function renderIam() {
  const p = state.me;
  const iam = $('#iam');
  iam.replaceChildren('你的身份：', el('b', '', p.name));
  if (p.role === 'contact') iam.append(' · ' + p.unit + ' 填报联系人 · ' + p.status);
  else if (p.role === 'admin') iam.append(' · 管理员（ADMIN_IDS 中的用户）');
  else if (p.role === 'office') iam.append(' · 市双拥办工作群成员');
  else iam.append(' · 尚未绑定单位');
}

const CHIPS = {
  admin: [['/help'], ['/units'], ['/invites'], ['/invite ', true], ['/deadline ', true], ['/remind'], ['/digest']],
  office: [['/summary'], ['/pending'], ['/export'], ['/export csv'], ['/docs ', true], ['/help']],
  contact: [['/report'], ['/status'], ['/cancel'], ['/handover'], ['/help']],
  guest: [['/start'], ['/help']],
};

function renderChips() {
  const box = $('#chips');
  box.replaceChildren();
  for (const [cmd, fill] of CHIPS[state.me.role] || []) {
    const c = el('button', 'chip', cmd.trim());
    c.type = 'button';
    c.addEventListener('click', () => {
      if (fill) {
        const t = $('#text');
        t.value = cmd;
        t.focus();
      } else {
        sendText(cmd);
      }
    });
    box.append(c);
  }
}

function typing() {
  const sub = $('#chat-sub');
  sub.textContent = '正在输入…';
  sub.classList.add('typing');
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => {
    if (state.me) {
      sub.textContent = state.me.chat_kind === 'group' ? '群组 · 机器人与市双拥办成员' : '机器人';
      sub.classList.remove('typing');
    }
  }, 2500);
}

// ---------- messages

function msgNode(id) {
  return $('#messages').querySelector('.msg[data-id="' + id + '"]');
}

function nearBottom() {
  const box = $('#messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 160;
}

function scrollDown() {
  const box = $('#messages');
  box.scrollTop = box.scrollHeight;
}

function dayChip(p) {
  const c = el('div', 'day', p.mo + '月' + p.d + '日 ' + p.wd);
  c.dataset.day = p.day;
  return c;
}

function renderAll() {
  const box = $('#messages');
  box.replaceChildren();
  const ids = [...state.msgs.keys()].sort((a, b) => a - b);
  if (!ids.length) box.append(el('div', 'empty', state.me.chat_kind === 'group' ? '群里还没有消息' : '还没有消息。发送 /start 或 /help 开始。'));
  let day = '';
  for (const id of ids) {
    const m = state.msgs.get(id);
    const p = parts(m.time);
    if (p && p.day !== day) { box.append(dayChip(p)); day = p.day; }
    box.append(renderMsg(m));
  }
  box.dataset.count = String(ids.length);
  scrollDown();
}

function upsert(m) {
  const old = state.msgs.has(m.id);
  state.msgs.set(m.id, m);
  const box = $('#messages');
  if (old) {
    const node = msgNode(m.id);
    if (node) node.replaceWith(renderMsg(m));
    return;
  }
  const stick = nearBottom() || (!m.from_bot && m.from_id === state.me.user_id);
  const empty = box.querySelector('.empty');
  if (empty) empty.remove();
  const p = parts(m.time);
  const days = box.querySelectorAll('.day');
  const last = days.length ? days[days.length - 1].dataset.day : '';
  if (p && p.day !== last) box.append(dayChip(p));
  box.append(renderMsg(m));
  box.dataset.count = String(state.msgs.size);
  if (stick) scrollDown();
  schedulePeople(); // a submission or a bind changes someone's state
}

// Links, and /commands, which Telegram sends when tapped.
const LINK_RE = /https?:\/\/[^\s，。；、）)」”]+|(?<=^|[\s（(：:，,；;“"、])\/[a-z_]{2,32}(?![A-Za-z0-9_\/])/g;

function richText(text) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(LINK_RE)) {
    frag.append(text.slice(at, m.index));
    const url = m[0];
    const a = el('a', '', url);
    if (url.startsWith('/')) {
      a.className = 'cmd';
      a.href = '#';
      a.title = '发送 ' + url;
      a.addEventListener('click', (e) => { e.preventDefault(); sendText(url); });
    } else if (/^https:\/\/t\.me\/[A-Za-z0-9_]+\?start=/.test(url)) {
      a.className = 'invite';
      a.href = '#';
      a.title = '以一位新联系人的身份打开这个邀请链接（新标签页）';
      a.addEventListener('click', (e) => { e.preventDefault(); openInvite(url); });
    } else {
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
    frag.append(a);
    at = m.index + url.length;
  }
  frag.append(text.slice(at));
  return frag;
}

function renderMsg(m) {
  const mine = !m.from_bot && state.me && m.from_id === state.me.user_id;
  const node = el('div', 'msg ' + (m.from_bot ? 'bot in' : mine ? 'out' : 'in'));
  node.dataset.id = String(m.id);
  const bubble = el('div', 'bubble');
  if (!mine && state.me && state.me.chat_kind === 'group') {
    const cls = m.from_bot ? 'bot' : 'n' + (Math.abs(m.from_id) % 8);
    bubble.append(el('div', 'sender ' + cls, m.from_name));
  }
  if (m.file) bubble.append(renderFile(m.file));
  if (m.text) {
    const t = el('div', 'text');
    // Telegram shows a deep link's /start without its token.
    t.append(richText(!m.from_bot && /^\/start \S+$/.test(m.text) ? '/start' : m.text));
    bubble.append(t);
  }
  if (m.caption) {
    const c = el('div', 'caption');
    c.append(richText(m.caption));
    bubble.append(c);
  }
  const p = parts(m.time);
  const meta = el('span', 'meta', (m.edited ? '已编辑 ' : '') + (p ? p.hh + ':' + p.mm : ''));
  (bubble.querySelector('.text, .caption') || bubble).append(meta);
  node.append(bubble);
  if (m.buttons && m.buttons.length) {
    const kb = el('div', 'kb');
    for (const row of m.buttons) {
      const r = el('div', 'kb-row');
      for (const b of row) {
        const btn = el('button', '', b.text);
        btn.type = 'button';
        btn.title = b.text;
        btn.dataset.data = b.data || '';
        btn.addEventListener('click', () => press(m.id, b, kb));
        r.append(btn);
      }
      kb.append(r);
    }
    node.append(kb);
  }
  return node;
}

function renderFile(f) {
  if (f.photo) {
    const a = el('a');
    a.href = f.url + '&inline=1';
    a.target = '_blank';
    const img = el('img', 'photo');
    img.src = f.url + '&inline=1';
    img.alt = '照片';
    a.append(img);
    return a;
  }
  const box = el('div', 'file');
  const ext = (f.name.split('.').pop() || '').toLowerCase();
  box.append(el('div', 'file-icon ' + ext, ext.slice(0, 4).toUpperCase() || '文件'));
  const info = el('div');
  info.append(el('div', 'file-name', f.name));
  const line = el('div', 'file-size', sizeText(f.size) + ' · ');
  const dl = el('a', 'file-link', '下载');
  dl.href = f.url;
  dl.download = f.name;
  line.append(dl);
  info.append(line);
  box.append(info);
  return box;
}

// ---------- acting

// Messages go out one after another, in the order they were typed.
let sending = Promise.resolve();

function sendText(text) {
  if (!state.key || !text.trim()) return Promise.resolve(false);
  const as = state.key;
  const done = sending.then(async () => {
    try {
      await api('POST', '/api/send', { as, text });
      schedulePeople();
      return true;
    } catch (e) {
      toast(e.message, 'error');
      return false;
    }
  });
  sending = done;
  return done;
}

async function press(id, b, kb) {
  if (b.url) { window.open(b.url, '_blank', 'noopener'); return; }
  for (const x of kb.querySelectorAll('button')) x.disabled = true;
  try {
    await api('POST', '/api/press', { as: state.key, message_id: id, data: b.data });
    schedulePeople();
  } catch (e) {
    toast(e.message, 'error');
  } finally {
    setTimeout(() => { for (const x of kb.querySelectorAll('button')) x.disabled = false; }, 400);
  }
}

async function upload(file) {
  const fd = new FormData();
  fd.append('as', state.key);
  fd.append('file', file, file.name);
  toast('正在发送 ' + file.name + ' …', '', 1500);
  try {
    await api('POST', '/api/upload', fd);
    schedulePeople();
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function openInvite(link) {
  const w = window.open('about:blank', '_blank');
  try {
    const r = await api('POST', '/api/invite', { link });
    const url = '/?as=' + encodeURIComponent(r.key);
    if (w) w.location.href = url; else location.href = url;
    toast(r.name + ' 打开了邀请链接');
    schedulePeople();
  } catch (e) {
    if (w) w.close();
    toast(e.message, 'error');
  }
}

// schedulePeople refreshes the list soon, at most twice a second.
let peopleTimer = 0;
function schedulePeople() {
  if (peopleTimer) return;
  peopleTimer = setTimeout(() => { peopleTimer = 0; loadPeople(); }, 500);
}

// ---------- the clock and the time machine

function setClock(c) {
  if (!c) return;
  state.clock = c;
  state.clockAt = Date.now();
  $('#clock-deadline').textContent = c.deadline_text;
  const left = $('#clock-left');
  left.textContent = c.left;
  left.classList.toggle('late', c.left.startsWith('已截止'));
  tickClock();
  $('#tm-at').value = c.now.slice(0, 16);
  if ($('#tm').open) renderStops();
}

function tickClock() {
  const c = state.clock;
  if (!c) return;
  // The demo clock runs at real speed between trips.
  const now = new Date(Date.parse(c.now) + (Date.now() - state.clockAt) + 8 * 3600 * 1000);
  const text = now.getUTCFullYear() + '年' + (now.getUTCMonth() + 1) + '月' + now.getUTCDate() + '日 ' +
    WEEK[now.getUTCDay()] + ' ' + String(now.getUTCHours()).padStart(2, '0') + ':' + String(now.getUTCMinutes()).padStart(2, '0');
  $('#clock-now').textContent = text;
  $('#tm-now').textContent = text;
  $('#tm-left').textContent = c.left;
}

function renderStops() {
  const box = $('#tm-stops');
  box.replaceChildren();
  const stops = (state.clock && state.clock.stops) || [];
  if (!stops.length) box.append(el('div', 'tm-note', '截止后的逾期提醒已排完，或没有更多定时任务。'));
  for (const s of stops) {
    const b = el('button', 'tm-stop');
    b.type = 'button';
    b.append(el('b', '', s.label), el('span', '', s.when));
    b.addEventListener('click', () => travel({ to: s.at }, s.label));
    box.append(b);
  }
}

async function travel(body, label) {
  const res = $('#tm-result');
  res.hidden = false;
  res.textContent = '正在前往' + (label ? '“' + label + '”' : '') + '…';
  try {
    const r = await api('POST', '/api/clock', body);
    setClock(r.clock);
    res.replaceChildren(el('div', '', '已到达 ' + r.clock.now_text + '。'));
    for (const line of r.ran || []) res.append(el('div', '', '• ' + line));
    schedulePeople();
  } catch (e) {
    res.textContent = e.message;
  }
}

async function openTimeMachine() {
  const dlg = $('#tm');
  $('#tm-result').hidden = true;
  try {
    setClock(await api('GET', '/api/clock'));
  } catch (e) {
    toast(e.message, 'error');
  }
  renderStops();
  dlg.showModal();
}

// ---------- start

function init() {
  $('#search').addEventListener('input', renderPeople);
  $('#tm-open').addEventListener('click', openTimeMachine);
  for (const b of document.querySelectorAll('.tm-add')) {
    b.addEventListener('click', () => travel({ add_minutes: Number(b.dataset.min) }, b.textContent));
  }
  $('#tm-go').addEventListener('click', () => {
    const v = $('#tm-at').value; // read as China Standard Time
    if (v) travel({ to: v + ':00+08:00' }, v.replace('T', ' '));
  });
  $('#back').addEventListener('click', () => $('#side').classList.toggle('closed'));
  for (const c of document.querySelectorAll('.card[data-key]')) c.addEventListener('click', () => choose(c.dataset.key));
  $('#card-contact').addEventListener('click', () => {
    const ps = (state.people && state.people.people) || [];
    const p = ps.find((x) => x.role === 'contact' && x.status === '未开始') || ps.find((x) => x.role === 'contact');
    if (p) choose(p.key);
  });
  const text = $('#text');
  $('#composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = text.value;
    if (!v.trim()) return;
    text.value = ''; // at once: the next message may be typed while this one goes out
    autoGrow();
    text.focus();
    if (!(await sendText(v)) && !text.value) { text.value = v; autoGrow(); }
  });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('#composer').requestSubmit();
    }
  });
  const autoGrow = () => { text.style.height = 'auto'; text.style.height = Math.min(text.scrollHeight, 160) + 'px'; };
  text.addEventListener('input', autoGrow);
  $('#file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) upload(f);
    e.target.value = '';
  });
  setInterval(tickClock, 10000);
  setInterval(loadPeople, 15000);
  loadPeople();
  api('GET', '/api/clock').then(setClock).catch(() => {});
  const key = new URL(location.href).searchParams.get('as');
  if (key) connect(key);
}

document.addEventListener('DOMContentLoaded', init);
