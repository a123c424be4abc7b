import { ApiError } from '../../client/index.js';
import { h } from './dom.js';
import { auth, navigate } from './session.js';

interface Room {
  roomId: string;
  slug: string | null;
}

const RECENT = 'inkwell.recentRooms';

/** Rooms opened in this browser, for servers that cannot list the caller's rooms. */
export function rememberRoom(room: Room): void {
  const recent = recentRooms().filter((r) => r.roomId !== room.roomId);
  localStorage.setItem(RECENT, JSON.stringify([{ roomId: room.roomId, slug: room.slug }, ...recent].slice(0, 20)));
}

function recentRooms(): Room[] {
  try {
    return JSON.parse(localStorage.getItem(RECENT) ?? '[]');
  } catch {
    return [];
  }
}

async function myRooms(): Promise<Room[]> {
  try {
    const body = await auth.api<Room[] | { rooms?: Room[]; results?: Room[] }>('GET', '/api/v1/rooms/');
    const listed = Array.isArray(body) ? body : (body.rooms ?? body.results ?? []);
    const known = new Set(listed.map((r) => r.roomId));
    return [...listed, ...recentRooms().filter((r) => !known.has(r.roomId))];
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return recentRooms();
    throw err;
  }
}

/** The start page: the caller's rooms, a new room, and the tutor's topics. */
export function homeView(root: HTMLElement): () => void {
  const list = h('ul', { 'aria-label': 'Your rooms', class: 'rooms' });
  const status = h('p', { role: 'status', class: 'status' });
  const slug = h('input', { id: 'slug', type: 'text', pattern: '[a-z0-9-]{3,64}', placeholder: 'e.g. team-sketch' });
  const openId = h('input', { id: 'open-room', type: 'text', required: true });

  const newRoom = h(
    'form',
    {
      onsubmit: async (ev: SubmitEvent) => {
        ev.preventDefault();
        try {
          const room = await auth.api<Room>('POST', '/api/v1/rooms/', slug.value ? { slug: slug.value } : {});
          rememberRoom(room);
          navigate(`/rooms/${encodeURIComponent(room.roomId)}`);
        } catch (err) {
          status.textContent = (err as Error).message;
        }
      },
    },
    h('label', { for: 'slug' }, 'Room name (optional)'),
    slug,
    h('button', { type: 'submit' }, 'New room'),
  );
  const open = h(
    'form',
    {
      onsubmit: (ev: SubmitEvent) => {
        ev.preventDefault();
        navigate(`/rooms/${encodeURIComponent(openId.value.trim())}`);
      },
    },
    h('label', { for: 'open-room' }, 'Room id or name'),
    openId,
    h('button', { type: 'submit' }, 'Open'),
  );
  const topics = h('ul', { 'aria-label': 'Tutor topics', class: 'topics' }, h('li', {}, h('a', { href: '/tutor/general', 'data-nav': true }, 'General English')));

  root.append(h('section', { class: 'card' }, h('h1', {}, 'Rooms'), list, newRoom, open, status), h('section', { class: 'card' }, h('h2', {}, 'Tutor'), topics));

  myRooms()
    .then((rooms) => {
      if (rooms.length === 0) list.append(h('li', { class: 'muted' }, 'No rooms yet.'));
      for (const r of rooms) list.append(h('li', {}, h('a', { href: `/rooms/${encodeURIComponent(r.roomId)}`, 'data-nav': true }, r.slug ?? r.roomId)));
    })
    .catch((err) => (status.textContent = (err as Error).message));
  fetch('/api/v1/grammar/')
    .then((r) => r.json() as Promise<{ results: Array<{ id: number; title: string }> }>)
    .then(({ results }) => {
      for (const t of results) topics.append(h('li', {}, h('a', { href: `/tutor/${t.id}`, 'data-nav': true }, t.title)));
    })
    .catch(() => undefined);
  return () => undefined;
}
