// The room list with unread badges, and the tools beside it: create a room,
// browse and join public rooms, start a direct chat.

import { api, me } from './api.js';
import { byId, h, replace, toast } from './dom.js';
import { roomTitle } from './format.js';

const DM_PEERS_KEY = 'edgechat.dmPeers';

/** Remembers who each DM is with (the API names DMs ""), per browser. */
function loadPeers() {
  try {
    return new Map(Object.entries(JSON.parse(localStorage.getItem(DM_PEERS_KEY) || '{}')));
  } catch {
    return new Map();
  }
}

export class Sidebar {
  constructor(hooks) {
    this.hooks = hooks; // {open(room)}
    this.rooms = new Map(); // id → Room, newest first
    this.activeId = null;
    this.dmPeers = loadPeers();
    this.el = {
      list: byId('room-list'), empty: byId('room-list-empty'),
      create: byId('create-form'), createName: byId('create-name'), createTopic: byId('create-topic'),
      browse: byId('browse-form'), browseQ: byId('browse-q'), browseList: byId('browse-list'),
      browseTool: byId('browse-tool'), dm: byId('dm-form'), dmUser: byId('dm-user'),
    };
    this.el.create.addEventListener('submit', (e) => { e.preventDefault(); this.createRoom(); });
    this.el.browse.addEventListener('submit', (e) => { e.preventDefault(); this.browse(); });
    let searchTimer = 0;
    this.el.browseQ.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => this.browse(), 250); });
    this.el.browseTool.addEventListener('toggle', () => { if (this.el.browseTool.open) this.browse(); });
    this.el.dm.addEventListener('submit', (e) => { e.preventDefault(); this.startDm(); });
  }

  /** Reloads the joined rooms (with unread counts). */
  async refresh() {
    const rooms = [];
    let cursor = '';
    // A person is in few rooms; two pages of 100 cover nearly everyone.
    for (let page = 0; page < 2; page += 1) {
      const res = await api('GET', `/api/v1/rooms?scope=joined&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      rooms.push(...res.rooms);
      if (!res.next_cursor) break;
      cursor = res.next_cursor;
    }
    this.rooms = new Map(rooms.map((r) => [r.id, r]));
    if (this.activeId && this.rooms.has(this.activeId)) this.rooms.get(this.activeId).unread = 0;
    this.render();
    this.learnPeers(rooms);
    return rooms;
  }

  /**
   * Names DMs someone else started: the API names them "", so look for the
   * other author among the newest messages (once per DM and page load).
   */
  async learnPeers(rooms) {
    this.asked ??= new Set();
    for (const r of rooms) {
      if (r.kind !== 'dm' || r.last_seq === 0 || this.dmPeers.has(r.id) || this.asked.has(r.id)) continue;
      this.asked.add(r.id);
      try {
        const page = await api('GET', `/api/v1/rooms/${encodeURIComponent(r.id)}/messages?limit=20`);
        const other = page.messages.find((m) => m.author.id !== me()?.id);
        if (other) this.remember(r.id, other.author.display_name);
      } catch { /* named later, when opened */ }
    }
  }

  render() {
    this.el.empty.hidden = this.rooms.size > 0;
    const items = [...this.rooms.values()].map((r) => {
      const title = roomTitle(r, this.dmPeers);
      const unread = r.unread || 0;
      const label = unread ? `${title}, ${unread} unread` : title;
      const glyph = r.kind === 'dm' ? '@' : (r.visibility === 'private' ? '' : '#');
      return h('li', { dataset: { roomId: r.id } },
        h('a', {
          href: `#/room/${encodeURIComponent(r.id)}`,
          class: `room-link${r.id === this.activeId ? ' active' : ''}${unread ? ' has-unread' : ''}`,
          'aria-current': r.id === this.activeId ? 'page' : null,
          'aria-label': label,
        },
        h('span', { class: glyph ? 'glyph' : 'glyph lock', 'aria-hidden': 'true', text: glyph }),
        h('span', { class: 'room-name', text: title }),
        unread ? h('span', { class: 'badge', 'aria-hidden': 'true', text: unread > 99 ? '99+' : String(unread) }) : null));
    });
    replace(this.el.list, items);
  }

  /** Marks `id` as the open room (its unread count is then 0). */
  activate(id) {
    this.activeId = id;
    const room = this.rooms.get(id);
    if (room) room.unread = 0;
    this.render();
  }

  /** An `unread` notification frame, or a read of the open room. */
  setUnread(roomId, count) {
    const room = this.rooms.get(roomId);
    if (!room) { this.refresh().catch(() => {}); return; }
    room.unread = roomId === this.activeId && document.visibilityState === 'visible' ? 0 : count;
    this.render();
  }

  /** Updates what is known of a room (from a socket's welcome). */
  update(room) {
    const known = this.rooms.get(room.id);
    if (known) Object.assign(known, { ...room, unread: known.unread });
    this.render();
  }

  remember(roomId, name) {
    if (!name || this.dmPeers.get(roomId) === name) return;
    this.dmPeers.set(roomId, name);
    try { localStorage.setItem(DM_PEERS_KEY, JSON.stringify(Object.fromEntries(this.dmPeers))); } catch { /* full or blocked */ }
    this.render();
  }

  remove(roomId) {
    this.rooms.delete(roomId);
    this.render();
  }

  async createRoom() {
    const name = this.el.createName.value.trim();
    if (!name) { this.el.createName.focus(); return; }
    const visibility = this.el.create.querySelector('input[name=visibility]:checked')?.value || 'public';
    const topic = this.el.createTopic.value.trim();
    try {
      const room = await api('POST', '/api/v1/rooms', { name, topic, visibility });
      this.el.createName.value = '';
      this.el.createTopic.value = '';
      byId('create-tool').open = false;
      this.rooms = new Map([[room.id, { ...room, unread: 0 }], ...this.rooms]);
      this.render();
      this.hooks.open(room);
    } catch (e) {
      toast(`Could not create the room: ${e.message}`, 'error');
    }
  }

  async browse() {
    const q = this.el.browseQ.value.trim();
    try {
      const res = await api('GET', `/api/v1/rooms?scope=public&limit=50${q ? `&q=${encodeURIComponent(q)}` : ''}`);
      if (this.el.browseQ.value.trim() !== q) return; // a newer search is on its way
      replace(this.el.browseList, res.rooms.length === 0
        ? h('li', { class: 'muted', text: q ? 'No public rooms match.' : 'No public rooms yet.' })
        : res.rooms.map((r) => this.browseItem(r)));
    } catch (e) {
      toast(`Could not list public rooms: ${e.message}`, 'error');
    }
  }

  browseItem(r) {
    const joined = this.rooms.has(r.id) || Boolean(r.my_role);
    return h('li', { class: 'browse-item' },
      h('span', { class: 'room-name', text: `# ${r.name}` }),
      h('span', { class: 'muted small', text: `${r.member_count} ${r.member_count === 1 ? 'member' : 'members'}` }),
      h('button', {
        type: 'button', class: joined ? 'quiet' : 'primary small', text: joined ? 'Open' : 'Join',
        'aria-label': `${joined ? 'Open' : 'Join'} ${r.name}`,
        on: { click: () => this.join(r, joined) },
      }));
  }

  async join(r, joined) {
    try {
      const room = joined ? r : await api('POST', `/api/v1/rooms/${encodeURIComponent(r.id)}/join`);
      if (!this.rooms.has(room.id)) this.rooms = new Map([[room.id, { ...room, unread: 0 }], ...this.rooms]);
      this.render();
      this.hooks.open(this.rooms.get(room.id));
    } catch (e) {
      toast(`Could not join: ${e.message}`, 'error');
    }
  }

  async startDm() {
    const username = this.el.dmUser.value.trim();
    if (!username) return;
    try {
      const room = await api('POST', '/api/v1/dms', { username });
      this.el.dmUser.value = '';
      byId('dm-tool').open = false;
      this.remember(room.id, username.toLowerCase());
      if (!this.rooms.has(room.id)) this.rooms = new Map([[room.id, { ...room, unread: 0 }], ...this.rooms]);
      this.render();
      this.hooks.open(this.rooms.get(room.id));
    } catch (e) {
      toast(e.status === 404 ? `No user called ${username}.` : `Could not start the chat: ${e.message}`, 'error');
    }
  }
}
