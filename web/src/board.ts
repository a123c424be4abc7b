import { ApiError, WhiteboardClient, type Drawing, type Point, type ShapeInput, type ShapeType } from '../../client/index.js';
import { h } from './dom.js';
import { rememberRoom } from './home.js';
import { auth, navigate, socketToken, socketUrl } from './session.js';
import { bounds, hit, paint, paintPlaceholder, toScreen, toWorld, type Viewport } from './shapes.js';

type Tool = 'select' | 'pan' | 'pen' | 'line' | 'rectangle' | 'circle' | 'arrow' | 'text';

const TOOLS: Array<[Tool, string, string]> = [
  ['select', 'Select', 'v'],
  ['pan', 'Pan', 'h'],
  ['pen', 'Pen', 'p'],
  ['line', 'Line', 'l'],
  ['rectangle', 'Rectangle', 'r'],
  ['circle', 'Circle', 'c'],
  ['arrow', 'Arrow', 'a'],
  ['text', 'Text', 't'],
];

const CONNECTION_TEXT = { connecting: 'Connecting…', open: 'Connected', reconnecting: 'Connection lost — reconnecting…', closed: 'Disconnected' };

interface RoomInfo {
  roomId: string;
  slug: string | null;
  adminId: string;
}

/** A room's board: tools, the shared canvas, members, cursors and AI pictures. */
export function boardView(root: HTMLElement, idOrSlug: string): () => void {
  const me = auth.user!;
  const client = new WhiteboardClient({ url: socketUrl, token: socketToken });
  let info: RoomInfo | null = null;
  let tool: Tool = 'pen';
  let view: Viewport = { x: 0, y: 0, zoom: 1 };
  let selected: string | null = null;
  let draft: ShapeInput | null = null;
  let gesture: { start: Point; screen: Point; view: Viewport; pan: boolean } | null = null;
  let frame = 0;
  const cursors = new Map<string, { el: HTMLElement; p: Point; timer: ReturnType<typeof setTimeout> }>();

  const canvas = h('canvas', { 'aria-label': 'Whiteboard', role: 'img', tabindex: 0, 'data-drawings': 0 });
  const overlay = h('div', { class: 'cursors', 'aria-hidden': 'true' });
  const stage = h('div', { class: 'stage' }, canvas, overlay);
  const connection = h('p', { role: 'status', class: 'connection', 'data-state': 'connecting' }, CONNECTION_TEXT.connecting);
  const notice = h('p', { role: 'alert', class: 'notice' });
  const members = h('ul', { 'aria-label': 'Members', class: 'members' });
  const color = h('input', { type: 'color', value: '#1f2937', 'aria-label': 'Colour' });
  const width = h('input', { type: 'range', min: 1, max: 24, value: 3, 'aria-label': 'Line width' });
  const toolButtons = TOOLS.map(([t, label, key]) =>
    h('button', { type: 'button', 'aria-pressed': String(t === tool), 'aria-keyshortcuts': key, title: `${label} (${key})`, onclick: () => setTool(t) }, label),
  );
  const deleteButton = h('button', { type: 'button', disabled: true, onclick: () => deleteSelected() }, 'Delete');
  const clearButton = h('button', { type: 'button', hidden: true, onclick: () => clearBoard() }, 'Clear board');
  const prompt = h('input', { id: 'picture-prompt', type: 'text', maxlength: 1000, required: true });
  const pictureForm = h(
    'form',
    {
      class: 'picture',
      onsubmit: (ev: SubmitEvent) => {
        ev.preventDefault();
        generate();
      },
    },
    h('label', { for: 'picture-prompt' }, 'Picture prompt'),
    prompt,
    h('button', { type: 'submit' }, 'Generate picture'),
  );
  const title = h('h1', {}, idOrSlug);
  const share = h('button', { type: 'button', onclick: () => void navigator.clipboard?.writeText(location.href) }, 'Copy link');

  root.append(
    h(
      'section',
      { class: 'board' },
      h('div', { class: 'board-head' }, title, share, connection),
      h(
        'div',
        { role: 'toolbar', 'aria-label': 'Tools', class: 'toolbar' },
        ...toolButtons,
        color,
        width,
        h('button', { type: 'button', onclick: () => zoomBy(1.25) }, 'Zoom in'),
        h('button', { type: 'button', onclick: () => zoomBy(0.8) }, 'Zoom out'),
        deleteButton,
        clearButton,
      ),
      h('div', { class: 'board-body' }, stage, h('aside', {}, h('h2', {}, 'Members'), members, pictureForm, notice)),
    ),
  );

  function setTool(t: Tool): void {
    tool = t;
    toolButtons.forEach((b, i) => {
      b.setAttribute('aria-pressed', String(TOOLS[i]![0] === t));
    });
    canvas.dataset.tool = t;
    if (t !== 'select') select(null);
  }

  function drawings(): Drawing[] {
    return info ? [...(client.room(info.roomId)?.drawings.values() ?? [])].sort((a, b) => a.seq - b.seq) : [];
  }

  function canModify(d: Drawing): boolean {
    return d.userId === me.id || info?.adminId === me.id;
  }

  function select(id: string | null): void {
    selected = id;
    deleteButton.disabled = id === null;
    schedule();
  }

  function deleteSelected(): void {
    if (info && selected) client.deleteDrawing(info.roomId, selected);
    select(null);
  }

  function clearBoard(): void {
    if (info && confirmClear()) client.clear(info.roomId);
  }

  // Clearing cannot be undone: ask, except in automated browsers where dialogs are not answered.
  function confirmClear(): boolean {
    return navigator.webdriver || window.confirm('Clear the whole board for everyone?');
  }

  function generate(): void {
    const text = prompt.value.trim();
    if (!info || !text) return;
    const rect = canvas.getBoundingClientRect();
    const size = 256 / view.zoom;
    const c = toWorld(view, rect.width / 2, rect.height / 2);
    client.generateImage(info.roomId, text, { x: Math.round(c.x - size / 2), y: Math.round(c.y - size / 2), width: Math.round(size), height: Math.round(size) });
    prompt.value = '';
  }

  function zoomBy(factor: number, at?: Point): void {
    const rect = canvas.getBoundingClientRect();
    const focus = at ?? { x: rect.width / 2, y: rect.height / 2 };
    const zoom = Math.min(8, Math.max(0.1, view.zoom * factor));
    const w = toWorld(view, focus.x, focus.y);
    view = { zoom, x: focus.x - w.x * zoom, y: focus.y - w.y * zoom };
    schedule();
  }

  function schedule(): void {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render(): void {
    frame = 0;
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(rect.width * dpr) || canvas.height !== Math.round(rect.height * dpr)) {
      canvas.width = Math.round(rect.width * dpr);
      canvas.height = Math.round(rect.height * dpr);
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(view.zoom * dpr, 0, 0, view.zoom * dpr, view.x * dpr, view.y * dpr);
    const all = drawings();
    for (const d of all) paint(ctx, d, schedule);
    if (info) {
      ctx.globalAlpha = 0.5;
      for (const p of client.pendingDraws(info.roomId)) paint(ctx, p, schedule);
      ctx.globalAlpha = 1;
      for (const g of client.room(info.roomId)?.generating.values() ?? []) paintPlaceholder(ctx, g);
    }
    if (draft) paint(ctx, draft, schedule);
    const chosen = all.find((d) => d.id === selected);
    if (chosen) {
      const b = bounds(chosen);
      ctx.save();
      ctx.setLineDash([6 / view.zoom, 4 / view.zoom]);
      ctx.strokeStyle = '#2563eb';
      ctx.lineWidth = 1.5 / view.zoom;
      ctx.strokeRect(b.x - 4, b.y - 4, b.w + 8, b.h + 8);
      ctx.restore();
    } else if (selected) select(null);
    canvas.dataset.drawings = String(all.length);
    canvas.dataset.seq = String(info ? (client.room(info.roomId)?.seq ?? 0) : 0);
    canvas.dataset.generating = String(info ? (client.room(info.roomId)?.generating.size ?? 0) : 0);
    for (const c of cursors.values()) placeCursor(c.el, c.p);
  }

  function placeCursor(el: HTMLElement, p: Point): void {
    const s = toScreen(view, p);
    el.style.transform = `translate(${s.x}px, ${s.y}px)`;
  }

  function point(ev: PointerEvent): Point {
    const rect = canvas.getBoundingClientRect();
    return { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
  }

  function shapeBetween(a: Point, b: Point, pen: Point[]): ShapeInput | null {
    const style = { color: color.value, strokeWidth: Number(width.value) };
    const r = (n: number) => Math.round(n * 10) / 10;
    switch (tool) {
      case 'pen':
        return { shapeType: 'hand', points: pen.map((p) => ({ x: r(p.x), y: r(p.y) })), ...style };
      case 'line':
      case 'arrow':
        return { shapeType: tool as ShapeType, points: [a, b].map((p) => ({ x: r(p.x), y: r(p.y) })), ...style };
      case 'rectangle':
        return { shapeType: 'rectangle', x: r(Math.min(a.x, b.x)), y: r(Math.min(a.y, b.y)), width: r(Math.abs(b.x - a.x)), height: r(Math.abs(b.y - a.y)), ...style };
      case 'circle':
        return { shapeType: 'circle', x: r(a.x), y: r(a.y), radius: r(Math.hypot(b.x - a.x, b.y - a.y)), ...style };
      default:
        return null;
    }
  }

  function commit(shape: ShapeInput): void {
    if (!info) return;
    client
      .draw(info.roomId, shape)
      .catch((err: Error) => (notice.textContent = err.message))
      .finally(schedule);
    schedule();
  }

  function placeText(at: Point): void {
    const s = toScreen(view, at);
    const input = h('input', { type: 'text', class: 'text-entry', 'aria-label': 'Text to place', maxlength: 2000 });
    input.style.left = `${s.x}px`;
    input.style.top = `${s.y}px`;
    const done = (keep: boolean) => {
      if (!input.isConnected) return;
      const text = input.value.trim();
      input.remove();
      if (keep && text) commit({ shapeType: 'text', x: Math.round(at.x), y: Math.round(at.y), text, color: color.value, strokeWidth: Number(width.value) });
      canvas.focus();
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') done(true);
      if (ev.key === 'Escape') done(false);
    });
    input.addEventListener('blur', () => done(true));
    stage.append(input);
    input.focus();
  }

  let pen: Point[] = [];
  canvas.addEventListener('pointerdown', (ev) => {
    canvas.focus();
    const s = point(ev);
    const w = toWorld(view, s.x, s.y);
    if (tool === 'text') return placeText(w);
    if (tool === 'select') {
      const d = hit(drawings(), w, 6 / view.zoom);
      return select(d && canModify(d) ? d.id : null);
    }
    canvas.setPointerCapture(ev.pointerId);
    gesture = { start: w, screen: s, view, pan: tool === 'pan' || ev.button === 1 };
    pen = [w];
  });
  canvas.addEventListener('pointermove', (ev) => {
    const s = point(ev);
    const w = toWorld(view, s.x, s.y);
    if (info) client.cursor(info.roomId, Math.round(w.x), Math.round(w.y));
    if (!gesture) return;
    if (gesture.pan) {
      view = { ...gesture.view, x: gesture.view.x + s.x - gesture.screen.x, y: gesture.view.y + s.y - gesture.screen.y };
    } else {
      pen.push(w);
      draft = shapeBetween(gesture.start, w, pen);
    }
    schedule();
  });
  const finish = (ev: PointerEvent) => {
    if (!gesture) return;
    const s = point(ev);
    const g = gesture;
    gesture = null;
    draft = null;
    if (g.pan) return;
    const w = toWorld(view, s.x, s.y);
    if (Math.hypot(s.x - g.screen.x, s.y - g.screen.y) < 2 && tool !== 'pen') return schedule();
    pen.push(w);
    const shape = shapeBetween(g.start, w, pen.slice(0, 5000));
    if (shape) commit(shape);
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', () => {
    gesture = null;
    draft = null;
    schedule();
  });
  canvas.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault();
      const rect = canvas.getBoundingClientRect();
      zoomBy(ev.deltaY < 0 ? 1.1 : 1 / 1.1, { x: ev.clientX - rect.left, y: ev.clientY - rect.top });
    },
    { passive: false },
  );
  // Keyboard: arrows pan, +/- zoom, Delete removes the selection, letters pick tools.
  canvas.addEventListener('keydown', (ev) => {
    const step = 40;
    const moves: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const move = moves[ev.key];
    if (move) {
      view = { ...view, x: view.x + move[0], y: view.y + move[1] };
      schedule();
    } else if (ev.key === '+' || ev.key === '=') zoomBy(1.25);
    else if (ev.key === '-') zoomBy(0.8);
    else if (ev.key === 'Delete' || ev.key === 'Backspace') deleteSelected();
    else if (ev.key === 'Escape') select(null);
    else {
      const t = TOOLS.find(([, , key]) => key === ev.key.toLowerCase());
      if (!t || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      setTool(t[0]);
    }
    ev.preventDefault();
  });

  function renderMembers(): void {
    const list = info ? (client.room(info.roomId)?.members ?? []) : [];
    members.replaceChildren(...list.map((m) => h('li', {}, m.name, m.id === me.id ? ' (you)' : '', m.id === info?.adminId ? ' · admin' : '')));
    for (const [id, c] of cursors) {
      if (list.some((m) => m.id === id)) continue;
      c.el.remove();
      cursors.delete(id);
    }
  }

  client.on('connection', ({ state }) => {
    connection.dataset.state = state;
    connection.textContent = CONNECTION_TEXT[state];
  });
  client.on('synced', ({ resumed }) => {
    connection.dataset.state = 'open';
    connection.dataset.synced = 'true';
    if (connection.textContent !== CONNECTION_TEXT.open) connection.textContent = resumed ? 'Connected — caught up' : 'Connected';
  });
  client.on('changed', schedule);
  client.on('members', renderMembers);
  client.on('cursor', ({ userId, x, y }) => {
    const name = client.room(info?.roomId ?? '')?.members.find((m) => m.id === userId)?.name ?? 'someone';
    let c = cursors.get(userId);
    if (!c) {
      const el = h('div', { class: 'cursor', 'data-user': userId }, h('span', {}, name));
      overlay.append(el);
      c = { el, p: { x, y }, timer: setTimeout(() => undefined) };
      cursors.set(userId, c);
    }
    c.p = { x, y };
    clearTimeout(c.timer);
    const entry = c;
    entry.timer = setTimeout(() => {
      entry.el.remove();
      cursors.delete(userId);
    }, 10_000);
    placeCursor(c.el, c.p);
  });
  client.on('ai', (m) => {
    if ('error' in m) notice.textContent = m.content;
  });
  client.on('error', ({ message }) => (notice.textContent = message));
  client.on('revoked', () => {
    notice.textContent = 'You no longer have access to this room.';
  });
  client.on('sessionEnded', ({ reason }) => auth.endLocally(reason));

  const resize = new ResizeObserver(schedule);
  resize.observe(stage);

  auth
    .api<RoomInfo>('GET', `/api/v1/rooms/${encodeURIComponent(idOrSlug)}/`)
    .then((room) => {
      info = room;
      rememberRoom(room);
      title.textContent = room.slug ?? room.roomId;
      clearButton.hidden = room.adminId !== me.id;
      if (idOrSlug !== room.roomId && room.slug !== idOrSlug) navigate(`/rooms/${encodeURIComponent(room.roomId)}`);
      client.join(room.roomId, new URLSearchParams(location.search).get('share') ?? undefined);
      client.connect();
    })
    .catch((err) => {
      connection.textContent = err instanceof ApiError && err.status === 404 ? 'This room does not exist.' : (err as Error).message;
      connection.dataset.state = 'closed';
    });
  schedule();

  return () => {
    client.close();
    resize.disconnect();
    cancelAnimationFrame(frame);
    for (const c of cursors.values()) clearTimeout(c.timer);
  };
}
