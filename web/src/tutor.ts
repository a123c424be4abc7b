import { TutorClient, type Turn } from '../../client/index.js';
import { h } from './dom.js';
import { auth, navigate, socketToken, socketUrl } from './session.js';

interface HistoryItem {
  responseId: string;
  role: 'user' | 'assistant';
  content: string;
  feedback: 'thumb-up' | 'thumb-down' | null;
}

/** Plays base64 audio clips one after another, in the order they are queued. */
class Speaker {
  private queue: string[] = [];
  private playing: HTMLAudioElement | null = null;
  played = 0;
  constructor(private readonly onPlay: (count: number) => void) {}

  enqueue(base64: string, format: string): void {
    this.queue.push(`data:audio/${format === 'mp3' ? 'mpeg' : format};base64,${base64}`);
    if (!this.playing) this.next();
  }

  stop(): void {
    this.queue = [];
    this.playing?.pause();
    this.playing = null;
  }

  private next(): void {
    const src = this.queue.shift();
    if (!src) {
      this.playing = null;
      return;
    }
    const audio = new Audio(src);
    this.playing = audio;
    const advance = () => this.playing === audio && this.next();
    audio.addEventListener('ended', advance);
    audio.addEventListener('error', advance);
    this.onPlay(++this.played);
    audio.play().catch(advance);
  }
}

/** The AI tutor: pick a topic, ask (typed or spoken), watch the answer stream, hear it, rate it. */
export function tutorView(root: HTMLElement, grammarId: string): () => void {
  const client = new TutorClient({ url: socketUrl, grammarId, token: socketToken });
  const log = h('div', { role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite', class: 'conversation', 'data-audio-played': 0 });
  const speaker = new Speaker((n) => (log.dataset.audioPlayed = String(n)));
  const topic = h('select', { id: 'topic' }, h('option', { value: 'general' }, 'General English'));
  const question = h('input', { id: 'question', type: 'text', maxlength: 4000, autocomplete: 'off' });
  const speak = h('input', { id: 'speak', type: 'checkbox', checked: localStorage.getItem('inkwell.speak') === 'true' });
  const status = h('p', { role: 'status', class: 'status' });
  const stop = h('button', { type: 'button', onclick: () => client.stop() }, 'Stop');
  const record = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => void toggleRecording() }, 'Record');
  const older = h('button', { type: 'button', hidden: true, onclick: () => void loadHistory() }, 'Older messages');
  let cursor: string | null = null;
  let recorder: MediaRecorder | null = null;
  const base = `/api/v1/chat/history/${encodeURIComponent(grammarId)}/`;

  root.append(
    h(
      'section',
      { class: 'tutor card' },
      h('div', { class: 'tutor-head' }, h('h1', {}, 'Tutor'), h('label', { for: 'topic' }, 'Topic'), topic),
      older,
      log,
      h(
        'form',
        {
          class: 'ask',
          onsubmit: (ev: SubmitEvent) => {
            ev.preventDefault();
            askTyped();
          },
        },
        h('label', { for: 'question' }, 'Question'),
        question,
        h('button', { type: 'submit' }, 'Ask'),
        stop,
        record,
        h('label', { class: 'check' }, speak, ' Speak answers'),
      ),
      status,
    ),
  );
  speak.addEventListener('change', () => localStorage.setItem('inkwell.speak', String(speak.checked)));
  topic.addEventListener('change', () => navigate(`/tutor/${encodeURIComponent(topic.value)}`));

  function thumbs(responseId: string, current: HistoryItem['feedback']): HTMLElement {
    const buttons = (['thumb-up', 'thumb-down'] as const).map((value) =>
      h(
        'button',
        {
          type: 'button',
          class: 'thumb',
          'aria-pressed': String(current === value),
          'aria-label': value === 'thumb-up' ? 'Good answer' : 'Bad answer',
          onclick: () => client.feedback(responseId, value),
        },
        value === 'thumb-up' ? 'Good' : 'Bad',
      ),
    );
    return h('span', { class: 'thumbs', 'data-response': responseId }, ...buttons);
  }

  function bubble(role: 'user' | 'assistant', text: string): HTMLElement {
    return h('div', { class: `message ${role}` }, h('span', { class: 'who' }, role === 'user' ? 'You' : 'Tutor'), h('p', {}, text));
  }

  function show(turn: Turn, asked: string | null): void {
    const q = bubble('user', asked ?? '🎤 …');
    const a = bubble('assistant', '');
    const text = a.querySelector('p')!;
    a.setAttribute('aria-busy', 'true');
    log.append(q, a);
    const scroll = () => (log.scrollTop = log.scrollHeight);
    scroll();
    turn.on('transcription', (heard) => (q.querySelector('p')!.textContent = heard));
    turn.on('delta', (piece) => {
      text.textContent += piece;
      scroll();
    });
    turn.on('audio', ({ audio, format }) => speaker.enqueue(audio, format));
    turn.on('error', ({ message }) => a.append(h('p', { class: 'error' }, message)));
    turn.on('completed', () => {
      a.removeAttribute('aria-busy');
      a.dataset.done = 'true';
      if (turn.id && text.textContent) a.append(thumbs(turn.id, null));
    });
  }

  function askTyped(): void {
    const text = question.value.trim();
    if (!text) return;
    question.value = '';
    show(client.ask(text, speak.checked), text);
  }

  async function toggleRecording(): Promise<void> {
    if (recorder) return recorder.stop();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks: Blob[] = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener('dataavailable', (ev) => chunks.push(ev.data));
      recorder.addEventListener('stop', () => {
        for (const t of stream.getTracks()) t.stop();
        recorder = null;
        record.setAttribute('aria-pressed', 'false');
        status.textContent = '';
        const reader = new FileReader();
        reader.addEventListener('load', () => show(client.askAudio(String(reader.result), speak.checked), null));
        reader.readAsDataURL(new Blob(chunks, { type: chunks[0]?.type || 'audio/webm' }));
      });
      recorder.start();
      record.setAttribute('aria-pressed', 'true');
      status.textContent = 'Recording… press Record again to send.';
    } catch (err) {
      status.textContent = `The microphone is not available: ${(err as Error).message}`;
    }
  }

  async function loadHistory(): Promise<void> {
    const query = cursor ? `?before=${encodeURIComponent(cursor)}&limit=20` : '?limit=20';
    const page = await auth.api<{ results: HistoryItem[]; nextCursor: string | null }>('GET', base + query);
    cursor = page.nextCursor;
    older.hidden = !cursor;
    const nodes = page.results
      .slice()
      .reverse()
      .map((m) => {
        const b = bubble(m.role, m.content);
        if (m.role === 'assistant') b.append(thumbs(m.responseId, m.feedback));
        return b;
      });
    const first = log.childElementCount === 0;
    log.prepend(...nodes);
    if (first) log.scrollTop = log.scrollHeight;
  }

  client.on('feedback', ({ responseId, value }) => {
    for (const b of log.querySelectorAll<HTMLButtonElement>(`.thumbs[data-response="${CSS.escape(responseId)}"] button`)) {
      b.setAttribute('aria-pressed', String(b.getAttribute('aria-label') === (value === 'thumb-up' ? 'Good answer' : 'Bad answer')));
    }
  });
  client.on('error', ({ message }) => (status.textContent = message));
  client.on('connection', ({ state }) => (status.dataset.connection = state));
  client.on('sessionEnded', ({ reason }) => auth.endLocally(reason));

  fetch('/api/v1/grammar/')
    .then((r) => r.json() as Promise<{ results: Array<{ id: number; title: string }> }>)
    .then(({ results }) => {
      topic.append(...results.map((t) => h('option', { value: String(t.id) }, t.title)));
      topic.value = grammarId;
    })
    .catch(() => undefined);
  loadHistory()
    .catch((err) => (status.textContent = (err as Error).message))
    .finally(() => (log.dataset.history = 'loaded'));
  question.focus();

  return () => {
    client.close();
    speaker.stop();
    recorder?.stop();
  };
}
