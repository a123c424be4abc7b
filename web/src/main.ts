import './style.css';
import { h } from './dom.js';
import { auth, navigate } from './session.js';
import { signInView } from './sign-in.js';
import { homeView } from './home.js';
import { boardView } from './board.js';
import { tutorView } from './tutor.js';

const app = document.getElementById('app')!;
let cleanup: () => void = () => undefined;
let notice = '';

function route(): void {
  cleanup();
  app.replaceChildren();
  const user = auth.user;
  const header = h(
    'header',
    { class: 'top' },
    h('a', { href: '/', class: 'brand', 'data-nav': true }, 'Inkwell'),
    user ? h('nav', { 'aria-label': 'Main' }, h('a', { href: '/', 'data-nav': true }, 'Rooms'), h('a', { href: '/tutor/general', 'data-nav': true }, 'Tutor')) : null,
    user ? h('span', { class: 'who' }, user.name) : null,
    user ? h('button', { type: 'button', onclick: () => void auth.signOut().catch(() => undefined) }, 'Sign out') : null,
  );
  const main = h('main');
  app.append(header, main);
  if (!user) {
    cleanup = signInView(main, notice);
    return;
  }
  notice = '';
  const room = /^\/rooms\/([^/]+)\/?$/.exec(location.pathname);
  const tutor = /^\/tutor\/([^/]+)\/?$/.exec(location.pathname);
  if (room?.[1]) cleanup = boardView(main, decodeURIComponent(room[1]));
  else if (tutor?.[1]) cleanup = tutorView(main, decodeURIComponent(tutor[1]));
  else cleanup = homeView(main);
}

// Same-origin links marked data-nav change the view without reloading the page.
document.addEventListener('click', (ev) => {
  const link = (ev.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!link || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  navigate(link.pathname);
});
window.addEventListener('popstate', route);
auth.on('signedIn', route);
auth.on('signedOut', ({ reason }) => {
  notice = reason;
  route();
});
route();
