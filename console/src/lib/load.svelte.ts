// A page's data: fetched when the page opens and again whenever the account, the region or the
// server's state changes (session.watchKey), the latest answer winning.
import { untrack } from 'svelte';
import { ApiError } from './api';
import { watchKey } from './session.svelte';

export function errorText(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}

export function loader<T>(fetcher: () => Promise<T>) {
  const s = $state({ data: undefined as T | undefined, error: '', loading: true, reload: () => {} });
  let seq = 0;
  const run = () => {
    const n = ++seq;
    fetcher()
      .then((d) => {
        if (n !== seq) return;
        s.data = d;
        s.error = '';
      })
      .catch((e) => {
        if (n === seq) s.error = errorText(e);
      })
      .finally(() => {
        if (n === seq) s.loading = false;
      });
  };
  s.reload = run;
  $effect(() => {
    watchKey();
    untrack(run);
  });
  return s;
}
