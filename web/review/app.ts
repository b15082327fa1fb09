/**
 * The reviewers' page: one image at a time, the model's top 3, the class list; keyboard first (number keys pick,
 * Enter confirms, S skips, N names a new class). Every outcome and every refusal is said in words in the message
 * area (`role="alert"`); the progress line counts this session's labels and the items waiting.
 */
import { ApiError, reviewApi, type ItemView, type LabelResponse, type ReviewApi } from './api';
import { forgetSession, signIn, type PageConfig, type Session } from './auth';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page lacks #${id}`);
  return el as T;
};

interface State {
  api?: ReviewApi;
  session?: Session;
  config?: PageConfig;
  classes: string[];
  item: ItemView | null;
  selected: string | null;
  labelled: number;
  waiting: number;
  busy: boolean;
}

const state: State = { classes: [], item: null, selected: null, labelled: 0, waiting: 0, busy: false };

const percent = (p: number) => `${Math.round(p * 100)}%`;
const utcTime = (iso: string) => `${iso.slice(11, 19)} UTC`;

function say(text: string, kind: 'error' | 'ok' | 'info' = 'info'): void {
  const box = $('message');
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = false;
}

function progress(): void {
  const strong = (n: number) => Object.assign(document.createElement('strong'), { textContent: String(n) });
  $('progress').replaceChildren(strong(state.labelled), ' labelled this session · ', strong(state.waiting), ' waiting');
}

function renderClasses(): void {
  const box = $('classes');
  box.replaceChildren(
    ...state.classes.map((name, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'radio');
      b.setAttribute('aria-checked', String(state.selected === name));
      b.dataset.label = name;
      if (i < 9) b.append(Object.assign(document.createElement('kbd'), { textContent: String(i + 1) }), ' ');
      b.append(name);
      b.addEventListener('click', () => select(name));
      return b;
    }),
  );
}

function select(name: string): void {
  state.selected = name;
  for (const b of $('classes').querySelectorAll<HTMLButtonElement>('button')) {
    const on = b.dataset.label === name;
    b.setAttribute('aria-checked', String(on));
    if (on) b.focus();
  }
}

function render(item: ItemView): void {
  $('empty').hidden = true;
  $('workspace').hidden = false;
  const img = $<HTMLImageElement>('image');
  img.src = item.imageUrl;
  img.alt = `Image under review (${item.reasonTitle.toLowerCase()}): ${item.imageKey}`;
  const badge = $('reason');
  badge.textContent = item.reasonTitle;
  badge.className = `badge ${item.reason}`;
  $('image-key').textContent = item.imageKey;
  $('inference-id').textContent = item.inferenceId ?? '—';
  $('lease').textContent = `yours until ${utcTime(item.lease.expiresAt)}`;
  const consensus = $('consensus');
  consensus.hidden = item.agreement < 2;
  consensus.textContent =
    item.agreement < 2
      ? ''
      : `Needs ${item.agreement} reviewers who agree · ${item.votes} vote${item.votes === 1 ? '' : 's'} so far (not shown, so you decide independently)`;
  const sources = $('source-labels');
  sources.hidden = !item.labels;
  sources.replaceChildren(
    ...(item.labels ?? []).map((l) =>
      Object.assign(document.createElement('li'), { textContent: `${l.source} says "${l.label}"` }),
    ),
  );
  const topk = $('topk');
  topk.replaceChildren(
    ...(item.topK.length === 0
      ? [Object.assign(document.createElement('li'), { textContent: 'No prediction for this image.' })]
      : item.topK.map((c) => {
          const li = document.createElement('li');
          const bar = document.createElement('span');
          bar.className = 'bar';
          bar.setAttribute('aria-hidden', 'true');
          const fill = document.createElement('span');
          fill.style.width = percent(c.confidence);
          bar.append(fill);
          li.append(
            Object.assign(document.createElement('span'), { textContent: c.label }),
            bar,
            Object.assign(document.createElement('span'), { className: 'pct', textContent: percent(c.confidence) }),
          );
          li.setAttribute('aria-label', `${c.label}: ${percent(c.confidence)} confidence`);
          return li;
        })),
  );
  state.selected = null;
  renderClasses();
  closeNewClass();
}

function showEmpty(): void {
  state.item = null;
  $('workspace').hidden = true;
  $('empty').hidden = false;
  $('refresh').focus();
}

async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
  if (state.busy) return undefined;
  state.busy = true;
  try {
    return await action();
  } catch (e) {
    if (e instanceof ApiError) {
      say(e.message, 'error');
      if (e.status === 401 && state.config?.mode === 'cognito') forgetSession();
      // The item is no longer ours (stale lease, someone else's): move on, keeping the explanation on screen.
      if ((e.status === 403 || e.status === 409) && state.item) await loadNext(false);
    } else {
      say(`Something went wrong: ${(e as Error).message}`, 'error');
    }
    return undefined;
  } finally {
    state.busy = false;
  }
}

async function loadNext(clearMessage = true): Promise<void> {
  const api = state.api;
  if (!api) return;
  const next = await api.next();
  state.waiting = next.waiting;
  state.item = next.item;
  progress();
  if (clearMessage) $('message').hidden = true;
  if (next.item) render(next.item);
  else showEmpty();
}

function outcomeText(r: LabelResponse): string {
  if (r.kind === 'accepted') return `Saved "${r.label}": the label is accepted and sent to the training data.`;
  if (r.kind === 'disputed') return 'Vote recorded. The reviewers disagree, so the item goes to an expert.';
  return `Vote recorded: ${r.votes} vote${r.votes === 1 ? '' : 's'} so far; ${r.agreement} must agree, so another reviewer will look at it.`;
}

async function submit(label: string, newClass: boolean): Promise<void> {
  const item = state.item;
  const api = state.api;
  if (!item || !api) return;
  await run(async () => {
    const result = await api.label(item.itemId, { leaseToken: item.lease.token, label, newClass });
    state.labelled += 1;
    if (result.newClass) state.classes = (await api.classes()).classes;
    await loadNext();
    say(outcomeText(result), 'ok');
  });
}

function confirm(): void {
  if (!state.item) return;
  if (!state.selected) {
    say('Pick a class first: press its number (or click it), or press N for a new class.', 'error');
    return;
  }
  void submit(state.selected, false);
}

function skipItem(): void {
  const item = state.item;
  const api = state.api;
  if (!item || !api) return;
  void run(async () => {
    await api.skip(item.itemId, { leaseToken: item.lease.token });
    await loadNext();
    say('Skipped: the item goes to another reviewer.', 'info');
  });
}

function openNewClass(): void {
  if (!state.item) return;
  $('new-class-form').hidden = false;
  const input = $<HTMLInputElement>('new-class-name');
  input.value = '';
  input.focus();
}

function closeNewClass(): void {
  $('new-class-form').hidden = true;
}

function onKey(event: KeyboardEvent): void {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target as HTMLElement;
  if (target.tagName === 'INPUT') {
    if (event.key === 'Escape') {
      event.preventDefault();
      closeNewClass();
      $('classes').focus();
    }
    return;
  }
  const key = event.key;
  if (/^[1-9]$/.test(key) && state.item) {
    event.preventDefault();
    const name = state.classes[Number(key) - 1];
    if (name) select(name);
    else say(`There is no class ${key}: the list has ${state.classes.length}.`, 'error');
  } else if (key === 'Enter') {
    // Enter on an action button clicks it; anywhere else (a class included) it confirms.
    if (target.tagName === 'BUTTON' && !target.dataset.label) return;
    event.preventDefault();
    if (target.dataset.label) select(target.dataset.label);
    confirm();
  } else if (key === 's' || key === 'S') {
    event.preventDefault();
    skipItem();
  } else if (key === 'n' || key === 'N') {
    event.preventDefault();
    openNewClass();
  } else if ((key === 'r' || key === 'R') && !state.item) {
    event.preventDefault();
    void run(() => loadNext());
  }
}

async function boot(): Promise<void> {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`config.json answered ${response.status}`);
    const config = (await response.json()) as PageConfig;
    state.config = config;
    const session = await signIn(config);
    if (!session) return;
    state.session = session;
    state.api = reviewApi(config.apiUrl, session.token);
    if (config.notice) {
      $('stub-notice').textContent = config.notice;
      $('stub-notice').hidden = false;
    }
    const who = $('who');
    who.replaceChildren(
      'Signed in as ',
      Object.assign(document.createElement('strong'), { textContent: session.name }),
    );
    if (session.signOutUrl) {
      $('signout-slot').replaceChildren(
        Object.assign(document.createElement('a'), { href: session.signOutUrl, textContent: 'Sign out' }),
      );
    }
    state.classes = (await state.api.classes()).classes;
    await run(() => loadNext());
  } catch (e) {
    say(`The page could not start: ${(e as Error).message}`, 'error');
  }
}

document.addEventListener('keydown', onKey);
$('confirm').addEventListener('click', confirm);
$('skip').addEventListener('click', skipItem);
$('new-class').addEventListener('click', openNewClass);
$('new-class-cancel').addEventListener('click', closeNewClass);
$('refresh').addEventListener('click', () => void run(() => loadNext()));
$('new-class-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $<HTMLInputElement>('new-class-name').value.trim();
  if (!name) {
    say('Type a name for the new class, or press Esc to go back to the list.', 'error');
    return;
  }
  void submit(name, true);
});
$<HTMLImageElement>('image').addEventListener('error', () => {
  if (state.item)
    say('The image could not be loaded (its link may have expired): press S to skip, or reload the page.', 'error');
});
void boot();
