// The console's pages are paths under /_palisade/console/ (the server answers index.html for
// them): history.pushState moves between them without a reload.
export const BASE = '/_palisade/console/';

const current = () => (location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '');

export const route = $state({ path: current(), query: new URLSearchParams(location.search) });

window.addEventListener('popstate', () => {
  route.path = current();
  route.query = new URLSearchParams(location.search);
});

export function href(path: string): string {
  return BASE + path;
}

export function navigate(path: string): void {
  history.pushState(null, '', BASE + path);
  const u = new URL(location.href);
  route.path = current();
  route.query = u.searchParams;
  window.scrollTo(0, 0);
}

/** For <a href={href(…)} onclick={go}>: a plain click moves within the page. */
export function go(ev: MouseEvent): void {
  const a = (ev.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const u = new URL(a.href);
  if (!u.pathname.startsWith(BASE)) return;
  ev.preventDefault();
  navigate(u.pathname.slice(BASE.length) + u.search);
}
