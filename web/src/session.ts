import { AuthClient, wsBase, type SessionStore } from '../../client/index.js';

const KEY = 'inkwell.session';

/** The login kept in localStorage, so a reload (or a second tab) stays signed in. */
const localStore: SessionStore = {
  load() {
    try {
      return JSON.parse(localStorage.getItem(KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  save(session) {
    if (session) localStorage.setItem(KEY, JSON.stringify(session));
    else localStorage.removeItem(KEY);
  },
};

export const auth = new AuthClient({ store: localStore });

export const socketUrl = wsBase(location.origin);

/** What the socket clients call for a token: the current one, or a refreshed one after a 4001. */
export const socketToken = (fresh: boolean): Promise<string> => (fresh ? auth.refresh() : auth.accessToken());

/** In-app navigation without a page load. */
export function navigate(path: string): void {
  if (location.pathname !== path) history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}
