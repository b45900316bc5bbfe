// Formatting for display: times in the reader's locale, mentions, names.

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
});
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** A short local time for `iso` (with the date when it is not today), and the full form. */
export function when(iso, now = new Date()) {
  const d = new Date(iso);
  const sameDay = d.toDateString() === now.toDateString();
  return { short: (sameDay ? timeOnly : dateTime).format(d), long: full.format(d) };
}

// API rule: `@` then the longest run of username characters, trailing `.`
// and `-` dropped.
const MENTION = /@([A-Za-z0-9_.-]+)/g;

/**
 * Splits a body into text and mention parts:
 * `[{text}, {mention: 'bob', text: '@bob'}, …]`.
 */
export function parts(body) {
  const out = [];
  let last = 0;
  for (const m of body.matchAll(MENTION)) {
    const name = m[1].replace(/[.-]+$/, '');
    if (name.length < 3) continue;
    const start = m.index;
    const end = start + 1 + name.length;
    if (start > last) out.push({ text: body.slice(last, start) });
    out.push({ mention: name.toLowerCase(), text: body.slice(start, end) });
    last = end;
  }
  if (last < body.length) out.push({ text: body.slice(last) });
  return out;
}

/** A room's title: its name, or for a DM the other person's name when known. */
export function roomTitle(room, dmPeers) {
  if (room.kind === 'dm') return dmPeers.get(room.id) || 'Direct message';
  return room.name;
}

/** "Ann is typing…", "Ann and Bo are typing…", "3 people are typing…". */
export function typingLine(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
