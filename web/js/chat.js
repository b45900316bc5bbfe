// The chat view of one room: the message log, the composer, who is online
// and typing, and the connection state.

import { api, ApiError, me } from './api.js';
import { announce, byId, h, replace, toast } from './dom.js';
import { parts, roomTitle, typingLine, when } from './format.js';
import { RoomSession } from './room.js';

const NEAR_BOTTOM_PX = 120;

/** A stable colour index for a user (FNV-1a: ids made close together still differ). */
function hue(id) {
  let n = 0x811c9dc5;
  for (const c of id) n = Math.imul(n ^ c.codePointAt(0), 0x01000193);
  return (n >>> 0) % 8;
}

/** Up to two initials of a display name. */
function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0] || '?'];
  return letters.map((w) => [...w][0]).join('').toUpperCase();
}
const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected',
};

/** Shows one room at a time; `hooks` tell the app about reads and renames. */
export class ChatView {
  constructor(hooks) {
    this.hooks = hooks; // {read(roomId), roomChanged(room), dmPeers: Map, gone(roomId)}
    this.session = null;
    this.bySeq = new Map(); // seq → {msg, el}
    this.pending = new Map(); // client_id → el
    this.replyTo = null;
    this.maxSeq = 0;
    this.el = {
      empty: byId('chat-empty'), room: byId('chat-room'), title: byId('chat-title'),
      topic: byId('chat-topic'), conn: byId('conn'), log: byId('log'), scroller: byId('scroller'),
      older: byId('older'), jump: byId('jump'), typing: byId('typing'), composer: byId('composer'),
      input: byId('message'), replyBar: byId('reply-bar'), replyText: byId('reply-text'),
      onlineSummary: byId('online-summary'), onlineList: byId('online-list'),
      invite: byId('invite-form'), inviteUser: byId('invite-user'),
    };
    this.wire();
  }

  wire() {
    const { el } = this;
    el.composer.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    el.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
      if (e.key === 'Escape' && this.replyTo) { e.preventDefault(); this.setReply(null); }
    });
    el.input.addEventListener('input', () => { this.grow(); if (el.input.value.trim()) this.session?.typed(); });
    byId('reply-cancel').addEventListener('click', () => { this.setReply(null); el.input.focus(); });
    el.scroller.addEventListener('scroll', () => this.scrolled(), { passive: true });
    el.older.addEventListener('click', () => this.loadOlder(true));
    el.jump.addEventListener('click', () => { this.toBottom(); el.input.focus(); });
    el.invite.addEventListener('submit', (e) => { e.preventDefault(); this.invite(); });
    document.addEventListener('visibilitychange', () => this.markRead());
    window.addEventListener('focus', () => this.markRead());
    window.addEventListener('beforeunload', (e) => {
      if (this.session?.unsent()) e.preventDefault();
    });
  }

  get roomId() {
    return this.session?.room.id ?? null;
  }

  /** Opens `room` (a Room object), replacing whatever was shown. */
  async open(room) {
    this.close();
    const { el } = this;
    el.empty.hidden = true;
    el.room.hidden = false;
    replace(el.log);
    this.bySeq.clear();
    this.pending.clear();
    this.maxSeq = 0;
    this.setReply(null);
    this.showRoom(room);
    this.online([]);
    this.typing([]);
    this.state('connecting');
    this.stick = true;
    const session = new RoomSession(room, this);
    this.session = session;
    try {
      await session.open();
    } catch (e) {
      if (this.session !== session) return;
      this.state('closed');
      toast(e instanceof ApiError && e.status === 404 ? 'That room is not available.' : `Could not open the room: ${e.message}`, 'error');
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) this.hooks.gone(room.id);
      return;
    }
    if (this.session === session && matchMedia('(min-width: 720px)').matches) el.input.focus();
  }

  close() {
    this.session?.close();
    this.session = null;
  }

  /** Back to the empty state. */
  clear() {
    this.close();
    this.el.room.hidden = true;
    this.el.empty.hidden = false;
  }

  showRoom(room) {
    const title = roomTitle(room, this.hooks.dmPeers);
    this.el.title.textContent = room.kind === 'dm' ? title : `# ${title}`;
    this.el.topic.textContent = room.kind === 'dm' ? 'Direct chat' : (room.topic || (room.visibility === 'private' ? 'Private room' : 'Public room'));
    const canInvite = room.kind === 'room' && (room.my_role === 'owner' || room.my_role === 'admin');
    this.el.invite.hidden = !canInvite;
    document.title = `${title} · edgechat`;
  }

  // ---- view callbacks from RoomSession ----

  room(room) {
    this.showRoom(room);
    this.hooks.roomChanged(room);
  }

  state(state, detail) {
    let text = STATE_TEXT[state] || state;
    if (state === 'reconnecting' && detail?.at) {
      const secs = Math.max(1, Math.round((detail.at - Date.now()) / 1000));
      text = `Reconnecting in ${secs} s…`;
    }
    this.el.conn.dataset.state = state;
    this.el.conn.textContent = text;
    this.el.composer.dataset.state = state;
    if (state === 'live') this.markRead();
  }

  hasMore(more) {
    this.el.older.hidden = !more;
  }

  messages(list, { older }) {
    if (older) {
      const before = this.el.scroller.scrollHeight;
      const top = this.el.scroller.scrollTop;
      const frag = document.createDocumentFragment();
      for (const m of list) {
        if (this.bySeq.has(m.seq)) continue;
        const el = this.render(m);
        this.bySeq.set(m.seq, { msg: m, el });
        this.maxSeq = Math.max(this.maxSeq, m.seq);
        frag.append(el);
      }
      this.el.log.prepend(frag);
      this.el.scroller.scrollTop = top + (this.el.scroller.scrollHeight - before);
      this.fillScreen();
      return;
    }
    for (const m of list) this.place(m);
    this.toBottom();
    this.fillScreen();
    this.markRead();
  }

  message(m) {
    const atBottom = this.nearBottom();
    const mine = m.author.id === me()?.id;
    if (m.pending) {
      const el = this.render(m);
      this.pending.set(m.client_id, el);
      this.el.log.append(el);
    } else {
      const isNew = !this.bySeq.has(m.seq);
      this.place(m);
      if (isNew && !mine) this.announceLater(m);
    }
    if (atBottom || mine) this.toBottom();
    else this.el.jump.hidden = false;
    this.markRead();
  }

  /** Announces new messages; a burst (a resume) becomes one summary. */
  announceLater(m) {
    this.heard ??= [];
    this.heard.push(m);
    if (this.heardTimer) return;
    this.heardTimer = setTimeout(() => {
      const heard = this.heard;
      this.heard = [];
      this.heardTimer = 0;
      if (heard.length <= 3) {
        for (const one of heard) announce(`${one.author.display_name}: ${one.body}`);
      } else {
        const names = [...new Set(heard.map((one) => one.author.display_name))];
        announce(`${heard.length} new messages from ${names.slice(0, 3).join(', ')}${names.length > 3 ? ' and others' : ''}`);
      }
    }, 250);
  }

  acked(clientId, seq) {
    const el = this.pending.get(clientId);
    if (!el) return;
    el.dataset.seq = String(seq);
    el.dataset.status = 'sent';
    el.classList.remove('pending');
    const status = el.querySelector('.status');
    if (status) status.textContent = 'Sent';
  }

  failed(clientId, reason) {
    const el = this.pending.get(clientId);
    if (!el) return;
    this.pending.delete(clientId);
    el.dataset.status = 'failed';
    el.classList.add('failed');
    const status = el.querySelector('.status');
    if (status) status.textContent = `Not sent: ${reason}`;
    const actions = el.querySelector('.msg-actions');
    if (actions) {
      replace(actions, h('button', {
        type: 'button', class: 'quiet', text: 'Dismiss',
        on: { click: () => { this.session?.discard(clientId); el.remove(); } },
      }));
    }
  }

  /** Newer copies of shown messages (after a reconnect): apply what changed. */
  refreshed(list) {
    for (const m of list) {
      const known = this.bySeq.get(m.seq)?.msg;
      if (known && (known.edited_at !== m.edited_at || known.deleted !== m.deleted)) this.place(m);
    }
  }

  edited(m) {
    if (this.bySeq.has(m.seq)) this.place(m);
  }

  deleted(seq) {
    const known = this.bySeq.get(seq);
    if (known) this.place({ ...known.msg, body: '', deleted: true });
  }

  /** Learns who a DM is with, from whoever else shows up in it. */
  peer(user) {
    const room = this.session?.room;
    if (room?.kind === 'dm' && user.id !== me()?.id) {
      this.hooks.peer(room.id, user.display_name);
      this.showRoom(room);
    }
  }

  online(users, count = users.length) {
    for (const u of users) this.peer(u);
    const sorted = [...users].sort((a, b) => a.display_name.localeCompare(b.display_name));
    this.el.onlineSummary.textContent = `Online (${count})`;
    replace(this.el.onlineList, sorted.map((u) => h('li', { dataset: { userId: u.id } },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { text: u.display_name }),
      h('span', { class: 'muted', text: ` @${u.username}` }))));
  }

  typing(names) {
    this.el.typing.textContent = typingLine(names);
  }

  error(text) {
    toast(text, 'error');
  }

  gone(reason) {
    const id = this.roomId;
    this.state('closed');
    toast(reason === 'removed' ? 'You were removed from this room.' : 'The room closed the connection.', 'error');
    if (id) this.hooks.gone(id);
  }

  // ---- rendering ----

  /** Inserts or replaces a stored message, in seq order (pending ones stay last). */
  place(m) {
    const el = this.render(m);
    const known = this.bySeq.get(m.seq);
    if (known) {
      known.el.replaceWith(el);
    } else {
      const pending = m.author.id === me()?.id ? this.pending.get(m.client_id) : null;
      if (pending) {
        pending.remove();
        this.pending.delete(m.client_id);
      }
      let next = null;
      if (m.seq < this.maxSeq) {
        for (const [seq, v] of this.bySeq) if (seq > m.seq && (!next || seq < next.seq)) next = { seq, el: v.el };
      }
      const anchor = next?.el ?? this.pending.values().next().value ?? null;
      this.el.log.insertBefore(el, anchor);
      this.maxSeq = Math.max(this.maxSeq, m.seq);
    }
    this.bySeq.set(m.seq, { msg: m, el });
    this.peer(m.author);
  }

  render(m) {
    const mine = m.author.id === me()?.id;
    const myName = me()?.username;
    const body = h('p', { class: 'body' });
    let mentionsMe = false;
    if (m.deleted) {
      body.append(h('em', { class: 'muted', text: 'Message deleted' }));
    } else {
      for (const part of parts(m.body)) {
        if (part.mention) {
          const self = part.mention === myName;
          mentionsMe ||= self;
          body.append(h('span', { class: self ? 'mention me' : 'mention', text: part.text }));
        } else {
          body.append(document.createTextNode(part.text));
        }
      }
    }
    const t = when(m.created_at);
    const status = m.pending ? 'Sending…' : '';
    const li = h('li', {
      class: ['msg', mine && 'mine', m.pending && 'pending', m.deleted && 'deleted', mentionsMe && 'mentions-me']
        .filter(Boolean).join(' '),
      tabindex: '-1',
      dataset: {
        seq: m.seq ?? '', clientId: m.client_id, author: m.author.username,
        status: m.pending ? 'pending' : 'sent',
      },
      // A tap (phones) focuses the message, which shows its actions.
      on: { click: (e) => { if (e.target === e.currentTarget || !e.target.closest('button, a, form')) li.focus({ preventScroll: true }); } },
    },
    h('span', { class: `avatar hue-${hue(m.author.id)}`, 'aria-hidden': 'true', text: initials(m.author.display_name) }),
    h('div', { class: 'meta' },
      h('span', { class: 'author', text: m.author.display_name }),
      h('span', { class: 'handle', text: `@${m.author.username}` }),
      h('time', { datetime: m.created_at, title: t.long, text: t.short }),
      m.edited_at && !m.deleted ? h('span', { class: 'edited', text: '(edited)' }) : null,
      mine ? h('span', { class: 'status', text: status }) : null),
    m.reply_to ? this.quote(m.reply_to) : null,
    body,
    m.deleted ? null : this.actions(m, mine));
    return li;
  }

  quote(seq) {
    const target = this.bySeq.get(seq)?.msg;
    const text = target
      ? (target.deleted ? 'a deleted message' : `${target.author.display_name}: ${target.body.slice(0, 120)}`)
      : `message #${seq}`;
    return h('button', {
      type: 'button', class: 'quote', 'aria-label': `In reply to ${text}. Show it`,
      on: { click: () => this.reveal(seq) },
    }, h('span', { 'aria-hidden': 'true', text: '↪ ' }), text);
  }

  actions(m, mine) {
    if (m.pending) return h('div', { class: 'msg-actions' });
    const who = m.author.display_name;
    return h('div', { class: 'msg-actions' },
      h('button', {
        type: 'button', class: 'quiet', text: 'Reply', 'aria-label': `Reply to ${who}`,
        on: { click: () => { this.setReply(m); this.el.input.focus(); } },
      }),
      mine ? h('button', {
        type: 'button', class: 'quiet', text: 'Edit', on: { click: (e) => this.startEdit(m, e.target) },
      }) : null,
      mine || this.session?.room.my_role === 'owner' || this.session?.room.my_role === 'admin'
        ? h('button', { type: 'button', class: 'quiet danger', text: 'Delete', on: { click: (e) => this.confirmDelete(m, e.target) } })
        : null);
  }

  reveal(seq) {
    const known = this.bySeq.get(seq);
    if (!known) { toast('That message is further up; scroll to load it.'); return; }
    known.el.scrollIntoView({ block: 'center' });
    known.el.classList.add('flash');
    setTimeout(() => known.el.classList.remove('flash'), 1500);
  }

  startEdit(m, button) {
    const li = button.closest('li');
    const body = li.querySelector('.body');
    const id = `edit-${m.seq}`;
    const input = h('textarea', { id, class: 'edit-input', maxlength: '4000', rows: '2' });
    input.value = m.body;
    const cancel = () => { form.replaceWith(body); li.querySelector('.msg-actions').hidden = false; button.focus(); };
    const form = h('form', { class: 'edit-form', on: { submit: async (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text || text === m.body) { cancel(); return; }
      try { await this.session.edit(m.seq, text); } catch (err) { toast(`Could not edit: ${err.message}`, 'error'); cancel(); }
    } } },
    h('label', { for: id, class: 'sr-only', text: 'Edited text' }),
    input,
    h('div', { class: 'actions-row' },
      h('button', { type: 'submit', class: 'primary', text: 'Save' }),
      h('button', { type: 'button', class: 'quiet', text: 'Cancel', on: { click: cancel } })));
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); cancel(); }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    body.replaceWith(form);
    li.querySelector('.msg-actions').hidden = true;
    input.focus();
  }

  confirmDelete(m, button) {
    if (button.dataset.armed) {
      this.session.remove(m.seq).catch((err) => toast(`Could not delete: ${err.message}`, 'error'));
      return;
    }
    button.dataset.armed = '1';
    button.textContent = 'Confirm delete';
    setTimeout(() => { if (button.isConnected) { delete button.dataset.armed; button.textContent = 'Delete'; } }, 4000);
  }

  setReply(m) {
    this.replyTo = m ? m.seq : null;
    this.el.replyBar.hidden = !m;
    this.el.replyText.textContent = m ? `Replying to ${m.author.display_name}: ${m.body.slice(0, 80)}` : '';
  }

  // ---- composing ----

  submit() {
    const text = this.el.input.value.trim();
    if (!text || !this.session) return;
    if ([...text].length > 4000) { toast('Messages are limited to 4000 characters.', 'error'); return; }
    this.session.send(text, this.replyTo);
    this.el.input.value = '';
    this.setReply(null);
    this.grow();
    this.el.input.focus();
  }

  grow() {
    const { input } = this.el;
    input.rows = Math.min(6, Math.max(1, input.value.split('\n').length));
  }

  async invite() {
    const username = this.el.inviteUser.value.trim();
    if (!username || !this.session) return;
    try {
      const added = await api('POST', `/api/v1/rooms/${encodeURIComponent(this.roomId)}/members`, { username });
      toast(`${added.user.display_name} can now join this room.`);
      this.el.inviteUser.value = '';
    } catch (e) {
      toast(e.status === 404 ? `No user called ${username}.` : `Could not invite: ${e.message}`, 'error');
    }
  }

  // ---- scrolling and reading ----

  nearBottom() {
    const s = this.el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  toBottom() {
    this.el.scroller.scrollTop = this.el.scroller.scrollHeight;
    this.el.jump.hidden = true;
  }

  scrolled() {
    if (this.nearBottom()) this.el.jump.hidden = true;
    if (this.el.scroller.scrollTop < 200) this.loadOlder(false);
  }

  async loadOlder(byKeyboard) {
    if (!this.session) return;
    try {
      const loaded = await this.session.older();
      if (loaded && byKeyboard) this.el.older.focus();
    } catch (e) {
      toast(`Could not load older messages: ${e.message}`, 'error');
    }
  }

  /** Keeps loading until the log overflows, so scrolling up can load more. */
  fillScreen() {
    const s = this.el.scroller;
    if (this.session?.hasMore && s.scrollHeight <= s.clientHeight) this.loadOlder(false);
  }

  markRead() {
    if (!this.session || document.visibilityState !== 'visible' || this.el.room.hidden) return;
    this.session.read();
    this.hooks.read(this.roomId);
  }
}
