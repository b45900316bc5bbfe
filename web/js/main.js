// Boots the client: resumes the browser session, then wires the room list,
// the chat view and the notification indicator together.

import { api, ApiError, login, logout, me, onSignedOut, register, resume } from './api.js';
import { byId, toast } from './dom.js';
import { roomTitle } from './format.js';
import { ChatView } from './chat.js';
import { Notifications } from './notify.js';
import { Sidebar } from './sidebar.js';

const el = {
  boot: byId('boot'), auth: byId('auth-view'), main: byId('main-view'), form: byId('auth-form'),
  username: byId('auth-username'), password: byId('auth-password'), display: byId('auth-display'),
  authError: byId('auth-error'), me: byId('me-name'), nav: byId('nav-toggle'),
};

const sidebar = new Sidebar({ open: (room) => go(room.id) });
const chat = new ChatView({
  dmPeers: sidebar.dmPeers,
  read: (roomId) => sidebar.setUnread(roomId, 0),
  roomChanged: (room) => sidebar.update(room),
  peer: (roomId, name) => sidebar.remember(roomId, name),
  gone: (roomId) => { sidebar.remove(roomId); if (chat.roomId === roomId || !chat.roomId) go(null); },
});
const notifications = new Notifications({
  unread: (roomId, count) => sidebar.setUnread(roomId, count),
  open: (roomId) => go(roomId),
  showing: (roomId) => chat.roomId === roomId && document.visibilityState === 'visible',
  roomName: (roomId) => {
    const room = sidebar.rooms.get(roomId);
    return room ? roomTitle(room, sidebar.dmPeers) : '';
  },
});

let signedIn = false;
let pollTimer = 0;

function showAuth(message) {
  el.boot.hidden = true;
  el.main.hidden = true;
  el.auth.hidden = false;
  el.authError.hidden = !message;
  el.authError.textContent = message || '';
  document.title = 'edgechat';
  el.username.focus();
}

async function enter() {
  signedIn = true;
  el.boot.hidden = true;
  el.auth.hidden = true;
  el.main.hidden = false;
  el.password.value = '';
  const user = me();
  el.me.textContent = user.display_name;
  el.me.title = `@${user.username}`;
  try {
    await sidebar.refresh();
  } catch (e) {
    toast(`Could not load your rooms: ${e.message}`, 'error');
  }
  notifications.start();
  clearInterval(pollTimer);
  // Unread counts also arrive live; this catches up after sleep or a lost stream.
  pollTimer = setInterval(() => { if (document.visibilityState === 'visible') sidebar.refresh().catch(() => {}); }, 30_000);
  await route();
}

function leave(message) {
  signedIn = false;
  clearInterval(pollTimer);
  chat.clear();
  notifications.stop();
  if (location.hash) history.replaceState(null, '', location.pathname);
  showAuth(message);
}

/** Opens a room by id (null: none), through the address so reload and back work. */
function go(roomId) {
  const hash = roomId ? `#/room/${encodeURIComponent(roomId)}` : '';
  if (location.hash !== hash) {
    if (hash) location.hash = hash;
    else history.pushState(null, '', location.pathname);
  }
  route();
}

async function route() {
  if (!signedIn) return;
  const match = /^#\/room\/(.+)$/.exec(location.hash);
  const id = match ? decodeURIComponent(match[1]) : null;
  el.main.dataset.view = id ? 'chat' : 'rooms';
  setNav(false);
  if (!id) { sidebar.activate(null); chat.clear(); return; }
  if (chat.roomId === id) return;
  let room = sidebar.rooms.get(id);
  if (!room) {
    try {
      room = await api('GET', `/api/v1/rooms/${encodeURIComponent(id)}`);
    } catch (e) {
      toast(e instanceof ApiError && e.status === 404 ? 'That room is not available.' : e.message, 'error');
      go(null);
      return;
    }
  }
  sidebar.activate(id);
  await chat.open(room);
}

function setNav(open) {
  el.main.classList.toggle('nav-open', open);
  el.nav.setAttribute('aria-expanded', String(open));
}

el.form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const mode = e.submitter?.value === 'register' ? 'register' : 'login';
  const username = el.username.value.trim();
  const password = el.password.value;
  const buttons = el.form.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  el.authError.hidden = true;
  try {
    if (mode === 'register') await register(username, password, el.display.value.trim());
    else await login(username, password);
    await enter();
  } catch (err) {
    let text = err.message;
    if (err.status === 401) text = 'Wrong username or password.';
    else if (err.status === 409) text = 'That username is taken.';
    else if (err.status === 429) text = 'Too many attempts. Wait a minute and try again.';
    el.authError.textContent = text;
    el.authError.hidden = false;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});

byId('logout-button').addEventListener('click', () => {
  signedIn = false;
  logout().catch(() => {}).finally(() => leave(''));
});
// Elsewhere ended (revoked, expired): say so.
onSignedOut(() => { if (signedIn) leave('You have been signed out.'); });
el.nav.addEventListener('click', () => setNav(!el.main.classList.contains('nav-open')));
byId('room-list').addEventListener('click', () => setNav(false));
window.addEventListener('hashchange', () => route());
window.addEventListener('focus', () => { if (signedIn) sidebar.refresh().catch(() => {}); });

async function boot() {
  try {
    if (await resume()) { await enter(); return; }
    showAuth();
  } catch {
    showAuth('Cannot reach edgechat. Check the connection and reload.');
  }
}

boot();
