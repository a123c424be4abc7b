type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | ((ev: never) => void) | undefined>;

/** Creates an element: `on*` props become listeners, `value`/`checked`/`hidden` properties, the rest attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    else if (key === 'value' || key === 'checked' || key === 'hidden') (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return el;
}

/** A view mounted into the page; returns its cleanup. */
export type View = (root: HTMLElement) => () => void;
