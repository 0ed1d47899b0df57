// Who the console is and where it looks: the key pair it signs with, the account and region
// shown, and a counter that moves when the server reports a change (so pages refetch).
import { ApiError, callerIdentity, presignedUrl, type Credentials, type Scope } from './api';

/** Under --auth open any key works, and a 12-digit key id names its account (the switcher). */
const OPEN_SECRET = 'palisade-console';
const DEFAULT_KEY = 'PALISADECONSOLE';

export const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'eu-south-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'me-south-1',
  'af-south-1',
];

export const session = $state({
  /** checking: asking the server; open: any key works; signin: keys needed; ready: signed in. */
  mode: 'checking' as 'checking' | 'open' | 'signin' | 'ready',
  credentials: null as Credentials | null,
  account: '',
  arn: '',
  region: sessionStorage.getItem('palisade.region') ?? 'us-east-1',
  /** Accounts picked in this tab (open mode), for the switcher. */
  accounts: JSON.parse(sessionStorage.getItem('palisade.accounts') ?? '[]') as string[],
  error: '',
});

export const live = $state({ version: 0, connected: false, polling: false });

export function scope(): Scope {
  return { credentials: session.credentials!, region: session.region };
}

/** What a page's data depends on: it refetches when any of this changes. */
export function watchKey(): string {
  return `${session.account}/${session.region}/${live.version}`;
}

export async function boot(): Promise<void> {
  const saved = sessionStorage.getItem('palisade.credentials');
  if (saved) {
    try {
      await useKeys(JSON.parse(saved) as Credentials, false);
      return;
    } catch {
      sessionStorage.removeItem('palisade.credentials');
    }
  }
  const account = sessionStorage.getItem('palisade.account');
  try {
    await useKeys({ accessKeyId: account ?? DEFAULT_KEY, secretAccessKey: OPEN_SECRET }, true);
  } catch (e) {
    if (e instanceof ApiError && e.status < 500) {
      session.mode = 'signin';
      session.error = '';
    } else {
      session.mode = 'signin';
      session.error = (e as Error).message;
    }
  }
}

async function useKeys(credentials: Credentials, open: boolean): Promise<void> {
  const who = await callerIdentity({ credentials, region: session.region });
  session.credentials = credentials;
  session.account = who.account;
  session.arn = who.arn;
  session.mode = open ? 'open' : 'ready';
  if (!open) sessionStorage.setItem('palisade.credentials', JSON.stringify(credentials));
  if (!session.accounts.includes(who.account)) session.accounts = [...session.accounts, who.account];
  sessionStorage.setItem('palisade.accounts', JSON.stringify(session.accounts));
  connectEvents();
}

export async function signIn(credentials: Credentials): Promise<void> {
  session.error = '';
  try {
    await useKeys(credentials, false);
  } catch (e) {
    session.error = e instanceof ApiError ? `${e.code}: ${e.message}` : (e as Error).message;
    throw e;
  }
}

export function signOut(): void {
  sessionStorage.removeItem('palisade.credentials');
  session.credentials = null;
  session.mode = 'signin';
  events?.close();
}

/** Open mode: another account's root (its 12-digit id as the access key). */
export async function switchAccount(account: string): Promise<void> {
  if (!/^\d{12}$/.test(account)) throw new Error('an account id is 12 digits');
  sessionStorage.setItem('palisade.account', account);
  await useKeys({ accessKeyId: account, secretAccessKey: OPEN_SECRET }, true);
}

export function switchRegion(region: string): void {
  session.region = region;
  sessionStorage.setItem('palisade.region', region);
}

// ---- live updates: GET /_palisade/events (server-sent events), else polling ----

let events: EventSource | undefined;
let poll: ReturnType<typeof setInterval> | undefined;
let bump: ReturnType<typeof setTimeout> | undefined;

function changed(): void {
  // Changes come in bursts (one commit, many documents): one refetch for the burst.
  clearTimeout(bump);
  bump = setTimeout(() => live.version++, 60);
}

async function connectEvents(): Promise<void> {
  events?.close();
  const url = session.mode === 'open' ? '/_palisade/events' : await presignedUrl(scope(), '/_palisade/events');
  const es = new EventSource(url);
  events = es;
  es.addEventListener('change', (ev) => {
    try {
      const d = JSON.parse((ev as MessageEvent).data) as { scope?: string };
      if (d.scope && d.scope !== `${session.account}/${session.region}`) return;
    } catch {
      /* a change all the same */
    }
    changed();
  });
  es.onopen = () => {
    live.connected = true;
    stopPolling();
  };
  es.onerror = () => {
    live.connected = false;
    if (es.readyState === EventSource.CLOSED && events === es) {
      // No event stream (an older server, or refused): poll, and try the stream again later.
      startPolling();
      setTimeout(() => events === es && connectEvents(), 15_000);
    }
  };
}

function startPolling(): void {
  if (poll) return;
  live.polling = true;
  poll = setInterval(() => live.version++, 3000);
}

function stopPolling(): void {
  clearInterval(poll);
  poll = undefined;
  live.polling = false;
}
