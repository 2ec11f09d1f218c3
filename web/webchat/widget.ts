/**
 * sparsam's website chat window. Embedded with one tag, served by sparsam:
 *   <script src="https://sparsam.example/webchat/<channelId>/widget.js" async></script>
 *
 * Works under a strict content security policy on the embedding page (script-src, style-src and connect-src naming
 * sparsam's origin, no 'unsafe-inline', no eval): the window lives in a shadow root styled by a stylesheet that sparsam
 * serves (widget.css), every element is built with DOM calls, and nothing sets inline styles. No cookies, no third
 * parties; the only thing kept in the browser is the random chat token (localStorage), which "Forget this chat"
 * deletes together with the conversation on the server. Live replies come over server-sent events read with fetch(),
 * so the token travels in the Authorization header and never in a URL.
 */
import { TEXTS, type Language, type Texts } from './texts.ts';

interface ChatConfig {
  title: string;
  language: Language;
  greeting: string | null;
  position: 'right' | 'left';
  primaryColour: string;
  notice: { text: string; version: string };
  paused: string | null;
  maxFileBytes: number;
}

interface ChatMessage {
  id: string;
  from: 'visitor' | 'staff';
  text: string | null;
  file: { name: string; mimeType: string; size: number; state: string } | null;
  status: string;
  at: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`HTTP ${status} ${code}`);
  }
}

const script = document.currentScript as HTMLScriptElement | null;

function start(): void {
  if (!script?.src) return;
  const src = new URL(script.src);
  const parts = src.pathname.split('/');
  const channelId = decodeURIComponent(parts[parts.length - 2] ?? '');
  const api = `${src.origin}/webchat/${encodeURIComponent(channelId)}`;
  const pageLang = (document.documentElement.lang || '').toLowerCase();
  const language: Language | undefined = pageLang.startsWith('en')
    ? 'en'
    : pageLang.startsWith('de')
      ? 'de'
      : undefined;
  const storageKey = `sparsam-webchat:${channelId}`;
  new ChatWindow(api, storageKey, language, script.dataset.open === 'true').mount();
}

/** The token in localStorage; storage may be blocked (privacy modes): then the chat lasts as long as the page. */
const memory = new Map<string, string>();
function readToken(key: string): string | null {
  try {
    return window.localStorage.getItem(key) ?? memory.get(key) ?? null;
  } catch {
    return memory.get(key) ?? null;
  }
}
function writeToken(key: string, token: string | null): void {
  if (token === null) memory.delete(key);
  else memory.set(key, token);
  try {
    if (token === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, token);
  } catch {
    // kept in memory only
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

class ChatWindow {
  #config: ChatConfig | undefined;
  #t: Texts = TEXTS.de;
  #token: string | null;
  #messages = new Map<string, ChatMessage>();
  #acked = new Map<string, 'delivered' | 'read'>();
  #stream: AbortController | undefined;
  #retry = 1000;
  #openPanel = false;
  readonly #root: ShadowRoot;
  readonly #host: HTMLElement;
  readonly #wrap: HTMLDivElement;
  readonly #launcher: HTMLButtonElement;
  readonly #panel: HTMLElement;
  readonly #body: HTMLDivElement;
  readonly #status: HTMLParagraphElement;
  #log: HTMLOListElement | undefined;
  #logBox: HTMLDivElement | undefined;
  #input: HTMLTextAreaElement | undefined;
  #announce: HTMLParagraphElement;

  constructor(
    private readonly api: string,
    private readonly storageKey: string,
    private readonly language: Language | undefined,
    private readonly startOpen: boolean,
  ) {
    this.#token = readToken(storageKey);
    this.#host = el('div', { id: 'sparsam-webchat' });
    this.#root = this.#host.attachShadow({ mode: 'open' });
    const sheet = el('link', { rel: 'stylesheet', href: `${api}/widget.css` });
    this.#wrap = el('div', { class: 'wrap', hidden: '' });
    sheet.addEventListener('load', () => this.#wrap.removeAttribute('hidden'));
    this.#launcher = el('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false' });
    this.#panel = el('section', { class: 'panel', hidden: '', role: 'dialog', 'aria-labelledby': 'sc-title' });
    this.#body = el('div', { class: 'body' });
    this.#status = el('p', { class: 'status', role: 'status' });
    this.#announce = el('p', { class: 'sr-only', 'aria-live': 'polite' });
    this.#wrap.append(this.#panel, this.#launcher, this.#announce);
    this.#root.append(sheet, this.#wrap);
  }

  mount(): void {
    document.body.append(this.#host);
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      const query = this.language ? `?lang=${this.language}` : '';
      this.#config = (await this.#fetch('GET', `/config${query}`)) as ChatConfig;
    } catch {
      this.#host.remove();
      return;
    }
    const config = this.#config;
    this.#t = TEXTS[config.language];
    this.#host.setAttribute('lang', config.language);
    this.#wrap.classList.add(config.position === 'left' ? 'left' : 'right');
    this.#launcher.append(chatIcon(), el('span', {}, this.#t.launcher));
    this.#launcher.setAttribute('aria-label', this.#t.open);
    this.#launcher.setAttribute('aria-controls', 'sc-panel');
    this.#panel.id = 'sc-panel';
    this.#launcher.addEventListener('click', () => this.#toggle(!this.#openPanel));
    const close = el('button', { type: 'button', class: 'close', 'aria-label': this.#t.close }, closeIcon());
    close.addEventListener('click', () => this.#toggle(false));
    this.#panel.append(el('header', {}, el('h2', { id: 'sc-title' }, config.title), close), this.#body, this.#status);
    this.#panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        this.#toggle(false);
      }
    });
    document.addEventListener('visibilitychange', () => this.#ackRead());
    this.#render();
    if (this.#token) void this.#refresh().then(() => this.#listen());
    if (this.startOpen) this.#toggle(true, false);
  }

  #toggle(open: boolean, moveFocus = true): void {
    this.#openPanel = open;
    this.#launcher.setAttribute('aria-expanded', String(open));
    if (open) {
      this.#panel.removeAttribute('hidden');
      this.#wrap.classList.add('is-open');
      if (moveFocus) this.#focusFirst();
      this.#ackRead();
      this.#scrollDown();
    } else {
      this.#panel.setAttribute('hidden', '');
      this.#wrap.classList.remove('is-open');
      if (moveFocus) this.#launcher.focus();
    }
  }

  #focusFirst(): void {
    const target =
      this.#input ??
      this.#body.querySelector<HTMLElement>('button.primary') ??
      this.#body.querySelector<HTMLElement>('button, [tabindex]') ??
      this.#panel;
    target.focus();
  }

  // ------------------------------------------------------------------------------------------------ render

  #render(): void {
    const config = this.#config!;
    const t = this.#t;
    this.#body.replaceChildren();
    this.#log = undefined;
    this.#logBox = undefined;
    this.#input = undefined;
    if (config.paused) {
      this.#body.append(el('p', { class: 'greeting' }, t.paused), el('p', {}, config.paused));
      return;
    }
    if (!this.#token) {
      this.#renderConsent();
      return;
    }
    this.#renderChat();
  }

  #renderConsent(): void {
    const config = this.#config!;
    const t = this.#t;
    // The notice scrolls in its own box (reachable by keyboard); the buttons stay in view below it.
    const notice = el('div', {
      class: 'notice',
      id: 'sc-notice',
      role: 'region',
      'aria-labelledby': 'sc-notice-heading',
      tabindex: '0',
    });
    for (const line of config.notice.text.split('\n')) if (line.trim() !== '') notice.append(el('p', {}, line));
    const accept = el('button', { type: 'button', class: 'primary', 'aria-describedby': 'sc-notice' }, t.accept);
    const decline = el('button', { type: 'button', class: 'secondary' }, t.decline);
    accept.addEventListener('click', () => void this.#accept(accept));
    decline.addEventListener('click', () => this.#toggle(false));
    this.#body.append(
      el('p', { class: 'greeting' }, config.greeting ?? t.greetingDefault),
      el('h3', { id: 'sc-notice-heading' }, t.noticeHeading),
      notice,
      el('div', { class: 'actions' }, accept, decline),
    );
  }

  #renderChat(): void {
    const t = this.#t;
    const config = this.#config!;
    // The live region is the scrolling box; the messages inside it stay a list for screen readers.
    const log = el('ol', { class: 'messages' });
    const box = el('div', { class: 'log', role: 'log', 'aria-label': t.log, tabindex: '0' }, log);
    this.#log = log;
    this.#logBox = box;
    const input = el('textarea', {
      id: 'sc-input',
      rows: '2',
      maxlength: '4096',
      autocomplete: 'off',
      placeholder: `${t.message} …`,
    });
    this.#input = input;
    const fileInput = el('input', { type: 'file', id: 'sc-file', class: 'file-input' });
    const attach = el(
      'label',
      { for: 'sc-file', class: 'attach' },
      attachIcon(),
      el('span', { class: 'sr-only' }, t.attach),
    );
    attach.setAttribute('title', t.attach);
    const send = el('button', { type: 'submit', class: 'primary send' }, t.send);
    const form = el(
      'form',
      { class: 'composer' },
      el('label', { for: 'sc-input', class: 'sr-only' }, t.message),
      input,
      fileInput,
      attach,
      send,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#sendText();
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.#sendText();
      }
    });
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      fileInput.value = '';
      if (file) void this.#sendFile(file);
    });
    const forget = el('button', { type: 'button', class: 'link' }, t.forget);
    forget.addEventListener('click', () => this.#confirmForget(forget));
    this.#body.append(
      el('p', { class: 'greeting' }, config.greeting ?? t.greetingDefault),
      box,
      form,
      el('div', { class: 'footer' }, forget),
    );
    this.#renderMessages();
  }

  #renderMessages(): void {
    const log = this.#log;
    if (!log) return;
    const t = this.#t;
    const seen = new Set<string>();
    for (const m of this.#messages.values()) {
      seen.add(m.id);
      const existing = log.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(m.id)}"]`);
      const item = this.#messageItem(m, t);
      if (existing) existing.replaceWith(item);
      else log.append(item);
    }
    for (const li of Array.from(log.querySelectorAll<HTMLLIElement>('li[data-id]'))) {
      if (!seen.has(li.dataset.id!) && !li.classList.contains('pending')) li.remove();
    }
    this.#scrollDown();
  }

  #messageItem(m: ChatMessage, t: Texts): HTMLLIElement {
    const item = el('li', { class: m.from === 'visitor' ? 'mine' : 'theirs', 'data-id': m.id });
    const time = new Date(m.at).toLocaleTimeString(this.#config!.language, { hour: '2-digit', minute: '2-digit' });
    item.append(el('span', { class: 'who' }, `${m.from === 'visitor' ? t.you : t.team}, ${time}`));
    if (m.text) item.append(el('p', {}, m.text));
    if (m.file) {
      if (m.file.state === 'stored') {
        const button = el('button', { type: 'button', class: 'file' }, t.download(m.file.name));
        button.addEventListener('click', () => void this.#download(m));
        item.append(button);
      } else {
        item.append(el('p', { class: 'hint' }, m.file.state === 'pending' ? t.filePending : t.fileRefused));
      }
    }
    return item;
  }

  #scrollDown(): void {
    if (this.#logBox) this.#logBox.scrollTop = this.#logBox.scrollHeight;
  }

  #say(text: string): void {
    this.#status.textContent = text;
  }

  // ---------------------------------------------------------------------------------------------- actions

  async #accept(button: HTMLButtonElement): Promise<void> {
    const config = this.#config!;
    button.disabled = true;
    try {
      const answer = (await this.#fetch('POST', '/consent', {
        language: config.language,
        noticeVersion: config.notice.version,
      })) as { token: string };
      this.#token = answer.token;
      writeToken(this.storageKey, answer.token);
      this.#say('');
      this.#render();
      this.#input?.focus();
      this.#listen();
    } catch (error) {
      button.disabled = false;
      if (error instanceof HttpError && error.code === 'CONFLICT') {
        this.#config = (await this.#fetch('GET', `/config?lang=${config.language}`)) as ChatConfig;
        this.#render();
        this.#say(this.#t.noticeChanged);
      } else this.#failed(error);
    }
  }

  async #sendText(): Promise<void> {
    const input = this.#input;
    if (!input) return;
    const text = input.value.trim();
    if (text === '') return;
    const clientId = randomId();
    const pending = el(
      'li',
      { class: 'mine pending' },
      el('p', {}, text),
      el('span', { class: 'hint' }, this.#t.sending),
    );
    this.#log?.append(pending);
    this.#scrollDown();
    input.value = '';
    try {
      const { message } = (await this.#fetch('POST', '/messages', { clientId, text })) as { message: ChatMessage };
      pending.remove();
      this.#messages.set(message.id, message);
      this.#renderMessages();
      this.#say('');
    } catch (error) {
      pending.remove();
      input.value = text;
      this.#failed(error);
    }
  }

  async #sendFile(file: File): Promise<void> {
    if (file.size > this.#config!.maxFileBytes) {
      this.#say(this.#t.tooLarge);
      return;
    }
    const pending = el(
      'li',
      { class: 'mine pending' },
      el('p', {}, file.name),
      el('span', { class: 'hint' }, this.#t.sending),
    );
    this.#log?.append(pending);
    try {
      const response = await fetch(`${this.api}/files`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.#token ?? ''}`,
          'content-type': file.type || 'application/octet-stream',
          'x-client-id': randomId(),
          'x-file-name': encodeURIComponent(file.name),
        },
        body: file,
        credentials: 'omit',
      });
      await this.#check(response);
      const { message } = (await response.json()) as { message: ChatMessage };
      pending.remove();
      this.#messages.set(message.id, message);
      this.#renderMessages();
      this.#say('');
    } catch (error) {
      pending.remove();
      this.#failed(error);
    }
  }

  async #download(m: ChatMessage): Promise<void> {
    try {
      const response = await fetch(`${this.api}/files/${encodeURIComponent(m.id)}`, {
        headers: { authorization: `Bearer ${this.#token ?? ''}` },
        credentials: 'omit',
      });
      await this.#check(response);
      const url = URL.createObjectURL(await response.blob());
      const a = el('a', { href: url, download: m.file?.name ?? 'file' });
      this.#root.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.#failed(error);
    }
  }

  #confirmForget(trigger: HTMLButtonElement): void {
    const t = this.#t;
    const box = el('div', { class: 'confirm', role: 'group', 'aria-labelledby': 'sc-forget-q' });
    const yes = el('button', { type: 'button', class: 'danger' }, t.forgetYes);
    const no = el('button', { type: 'button', class: 'secondary' }, t.forgetNo);
    box.append(el('p', { id: 'sc-forget-q' }, t.forgetConfirm), el('div', { class: 'actions' }, yes, no));
    trigger.replaceWith(box);
    no.addEventListener('click', () => {
      box.replaceWith(trigger);
      trigger.focus();
    });
    yes.addEventListener('click', () => void this.#forget(yes));
    no.focus();
  }

  async #forget(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await this.#fetch('DELETE', '/visitor');
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 401)) {
        button.disabled = false;
        this.#failed(error);
        return;
      }
    }
    this.#reset(this.#t.forgotten);
  }

  /** Forgets the token and everything shown; the consent screen comes back. */
  #reset(message: string): void {
    this.#stream?.abort();
    this.#stream = undefined;
    this.#token = null;
    writeToken(this.storageKey, null);
    this.#messages.clear();
    this.#acked.clear();
    this.#render();
    this.#say(message);
    if (this.#openPanel) this.#focusFirst();
  }

  #failed(error: unknown): void {
    const t = this.#t;
    if (error instanceof HttpError) {
      if (error.status === 401) return this.#reset(t.gone);
      if (error.status === 429) return this.#say(t.tooMany);
      if (error.status === 503) return this.#say(t.paused);
      if (error.status === 413) return this.#say(t.tooLarge);
      if (error.status === 415) return this.#say(t.fileRefused);
    }
    this.#say(t.failed);
  }

  // ------------------------------------------------------------------------------------------- live updates

  async #refresh(): Promise<void> {
    if (!this.#token) return;
    try {
      const { messages } = (await this.#fetch('GET', '/messages')) as { messages: ChatMessage[] };
      const before = new Set(this.#messages.keys());
      this.#messages = new Map(messages.map((m) => [m.id, m]));
      this.#renderMessages();
      const fresh = messages.filter((m) => m.from === 'staff' && !before.has(m.id));
      if (fresh.length > 0 && before.size > 0) this.#announce.textContent = this.#t.newMessage;
      await this.#ack('delivered');
      this.#ackRead();
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) this.#reset(this.#t.gone);
    }
  }

  #ackRead(): void {
    if (this.#openPanel && document.visibilityState === 'visible') void this.#ack('read');
  }

  async #ack(status: 'delivered' | 'read'): Promise<void> {
    const ids = [...this.#messages.values()]
      .filter((m) => m.from === 'staff')
      .filter((m) => {
        const done = this.#acked.get(m.id);
        return status === 'read' ? done !== 'read' && m.status !== 'read' : !done && m.status === 'sent';
      })
      .map((m) => m.id);
    if (ids.length === 0 || !this.#token) return;
    for (const id of ids) this.#acked.set(id, status);
    try {
      await this.#fetch('POST', '/ack', { messageIds: ids, status });
    } catch {
      for (const id of ids) this.#acked.delete(id);
    }
  }

  /** Reads the server-sent events with fetch (the token in a header); reconnects with a growing pause. */
  #listen(): void {
    if (!this.#token || this.#stream) return;
    const controller = new AbortController();
    this.#stream = controller;
    void (async () => {
      try {
        const response = await fetch(`${this.api}/stream`, {
          headers: { authorization: `Bearer ${this.#token ?? ''}`, accept: 'text/event-stream' },
          credentials: 'omit',
          signal: controller.signal,
        });
        await this.#check(response);
        this.#retry = 1000;
        if (this.#status.textContent === this.#t.offline) this.#say('');
        await this.#refresh();
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.+)$/m.exec(block)?.[1];
            if (event === 'sync') await this.#refresh();
            if (event === 'gone') {
              this.#reset(this.#t.gone);
              return;
            }
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof HttpError && error.status === 401) {
          this.#reset(this.#t.gone);
          return;
        }
        if (!(error instanceof HttpError)) this.#say(this.#t.offline);
      }
      if (this.#stream !== controller) return;
      this.#stream = undefined;
      const wait = this.#retry;
      this.#retry = Math.min(this.#retry * 2, 30_000);
      setTimeout(() => this.#listen(), wait);
    })();
  }

  // ----------------------------------------------------------------------------------------------- network

  async #fetch(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.api}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      credentials: 'omit',
    });
    await this.#check(response);
    return response.status === 204 ? undefined : response.json();
  }

  async #check(response: Response): Promise<void> {
    if (response.ok) return;
    let code = 'HTTP';
    try {
      code = ((await response.json()) as { error?: { code?: string } }).error?.code ?? code;
    } catch {
      // not JSON
    }
    throw new HttpError(response.status, code);
  }
}

function svg(path: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const icon = document.createElementNS(ns, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('aria-hidden', 'true');
  icon.setAttribute('focusable', 'false');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', path);
  icon.append(p);
  return icon;
}
const chatIcon = () => svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z');
const closeIcon = () => svg('M6 6l12 12M18 6L6 18');
const attachIcon = () =>
  svg('M16.5 6.5l-8 8a2.5 2.5 0 0 0 3.5 3.5l8-8a4.5 4.5 0 0 0-6.4-6.4l-8 8a6.5 6.5 0 0 0 9.2 9.2l6.2-6.2');

start();
