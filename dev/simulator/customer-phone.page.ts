/**
 * The simulator's "customer phone": one HTML page (no build, no dependencies) where a person picks a phone number,
 * writes messages, sends a photo, taps sparsam's reply buttons and reads sparsam's answers with their ticks. It talks
 * to the simulator's /phone/* JSON endpoints and polls once a second. All text is inserted with textContent.
 */
export function customerPhonePage(): string {
  return `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sparsam – Kundentelefon (Simulator)</title>
<style>
  :root { font-family: system-ui, sans-serif; color-scheme: light; }
  body { margin: 0; background: #e5ddd5; display: flex; justify-content: center; }
  main { width: min(480px, 100vw); min-height: 100vh; display: flex; flex-direction: column; background: #efeae2; }
  header { background: #075e54; color: #fff; padding: 10px 12px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  header label { font-size: 12px; display: flex; flex-direction: column; gap: 2px; }
  header input { font-size: 14px; padding: 4px 6px; border-radius: 4px; border: 0; width: 140px; }
  #state { font-size: 12px; opacity: .9; width: 100%; }
  #thread { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 6px; }
  .msg { max-width: 80%; padding: 6px 9px; border-radius: 8px; box-shadow: 0 1px 1px rgba(0,0,0,.1); white-space: pre-wrap; word-wrap: break-word; }
  .in { align-self: flex-end; background: #d9fdd3; }
  .out { align-self: flex-start; background: #fff; }
  .attachment { display: block; max-width: 100%; border-radius: 6px; margin-bottom: 4px; }
  .meta { font-size: 11px; color: #4b5a63; margin-top: 3px; text-align: right; }
  .buttons { display: flex; flex-direction: column; gap: 4px; margin-top: 6px; }
  .buttons button { background: #fff; border: 1px solid #d1d7db; color: #027eb5; border-radius: 6px; padding: 6px; cursor: pointer; font-size: 14px; }
  form { display: flex; gap: 6px; padding: 8px; background: #f0f2f5; align-items: center; }
  form input[type=text] { flex: 1; padding: 9px 12px; border-radius: 18px; border: 1px solid #ccc; font-size: 15px; }
  form button { background: #008069; color: #fff; border: 0; border-radius: 18px; padding: 9px 14px; font-size: 15px; cursor: pointer; }
  .warn { background: #fff3cd; color: #664d03; padding: 6px 12px; font-size: 13px; }
</style>
</head>
<body>
<main>
  <header>
    <label>Telefonnummer <input id="number" value="4915112345678" inputmode="numeric" autocomplete="off"></label>
    <label>Profilname <input id="name" value="Test Customer" autocomplete="off"></label>
    <div id="state">Simulierter WhatsApp-Kunde. Nachrichten gehen signiert an sparsam.</div>
  </header>
  <div id="failure" class="warn" hidden></div>
  <div id="thread" aria-live="polite"></div>
  <form id="compose">
    <label title="Foto senden" style="cursor:pointer;font-size:13px;color:#005a80">Foto<input id="photo" type="file" accept="image/*" hidden></label>
    <input id="text" type="text" placeholder="Nachricht" autocomplete="off" aria-label="Nachricht">
    <button type="submit">Senden</button>
  </form>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const thread = $('thread');
  const saved = JSON.parse(localStorage.getItem('sparsam-sim') || '{}');
  if (saved.number) $('number').value = saved.number;
  if (saved.name) $('name').value = saved.name;
  const remember = () => localStorage.setItem('sparsam-sim', JSON.stringify({ number: $('number').value, name: $('name').value }));
  $('number').addEventListener('change', () => { remember(); refresh(); });
  $('name').addEventListener('change', remember);
  let lastRendered = '';

  async function send(payload) {
    const body = Object.assign({ from: $('number').value, name: $('name').value }, payload);
    const response = await fetch('phone/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const result = await response.json();
    $('state').textContent = result.error ? 'Fehler: ' + result.error
      : result.delivered ? 'Von sparsam angenommen (HTTP 200).'
      : 'sparsam hat nicht mit 200 geantwortet: ' + result.attempts.join(', ');
    refresh();
  }

  $('compose').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return;
    $('text').value = '';
    send({ text });
  });

  $('photo').addEventListener('change', () => {
    const file = $('photo').files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      const base64 = String(reader.result).split(',')[1];
      send({ image: { base64, mimeType: file.type || 'image/jpeg', caption: $('text').value || undefined } });
      $('text').value = '';
      $('photo').value = '';
    };
    reader.readAsDataURL(file);
  });

  function ticks(status) {
    return { accepted: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓ gelesen' }[status] || status || '';
  }

  function render(data) {
    const key = JSON.stringify(data);
    if (key === lastRendered) return;
    lastRendered = key;
    const failure = $('failure');
    failure.hidden = !data.failure;
    failure.textContent = data.failure ? 'Graph-API-Störung aktiv: HTTP ' + data.failure.status + ' (Code ' + data.failure.code + ')' : '';
    thread.replaceChildren();
    for (const entry of data.thread) {
      const bubble = document.createElement('div');
      bubble.className = 'msg ' + entry.direction;
      if (entry.mediaUrl && entry.kind === 'image') {
        const img = document.createElement('img');
        img.src = entry.mediaUrl;
        img.alt = 'Bild';
        img.className = 'attachment';
        bubble.append(img);
      } else if (entry.mediaUrl) {
        const link = document.createElement('a');
        link.href = entry.mediaUrl;
        link.target = '_blank';
        link.rel = 'noreferrer';
        link.textContent = 'Datei: ' + (entry.fileName || entry.kind);
        bubble.append(link);
      }
      const text = document.createElement('div');
      text.textContent = entry.text || (entry.mediaUrl ? '' : '[' + entry.kind + ']');
      if (text.textContent) bubble.append(text);
      if (entry.buttons) {
        const box = document.createElement('div');
        box.className = 'buttons';
        for (const b of entry.buttons) {
          const button = document.createElement('button');
          button.type = 'button';
          button.textContent = b.title;
          button.addEventListener('click', () => send({ buttonReply: { id: b.id, title: b.title, contextId: entry.id } }));
          box.append(button);
        }
        bubble.append(box);
      }
      const meta = document.createElement('div');
      meta.className = 'meta';
      // Outbound: sparsam's delivery ticks; inbound: whether sparsam took the webhook.
      meta.textContent = new Date(entry.at).toLocaleTimeString() + ' · ' + (entry.direction === 'out' ? ticks(entry.status) : entry.status || '');
      bubble.append(meta);
      thread.append(bubble);
    }
    thread.scrollTop = thread.scrollHeight;
  }

  async function refresh() {
    try {
      const response = await fetch('phone/thread?number=' + encodeURIComponent($('number').value));
      render(await response.json());
    } catch { /* the simulator is restarting */ }
  }
  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>`;
}
