// sparsam's service worker: an offline shell for the installed app, and the notifications sent by Web Push.
// It caches only the app itself (HTML shell, hashed scripts and styles, icons), never an API answer: conversations
// stay on the server. Push payloads are content-free ("Neue Nachricht in Anfrage 42 (werkstatt)").
const CACHE = 'sparsam-shell-v1';
const SHELL = ['/offline.html', '/favicon.svg', '/icon-192.png', '/badge-96.png', '/manifest.webmanifest'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    // The page from the network; offline the last shell of this path, or the offline page.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            void caches.open(CACHE).then((cache) => cache.put('/shell', copy));
          }
          return response;
        })
        .catch(async () => (await caches.match('/shell')) || (await caches.match('/offline.html'))),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    // Hashed file names never change their content: cache first.
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              void caches.open(CACHE).then((cache) => cache.put(request, copy));
            }
            return response;
          }),
      ),
    );
  }
});

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === 'string' ? data.title : 'sparsam';
  const body = typeof data.body === 'string' ? data.body : '';
  const url = typeof data.url === 'string' && data.url.startsWith('/') ? data.url : '/inbox';
  const shown = self.registration.showNotification(title, {
    body,
    tag: typeof data.tag === 'string' ? data.tag : undefined,
    renotify: true,
    icon: '/icon-192.png',
    badge: '/badge-96.png',
    data: { url },
  });
  // The app icon shows that something is waiting (a dot where the platform has no count from us).
  const badge = 'setAppBadge' in self.navigator ? self.navigator.setAppBadge().catch(() => undefined) : undefined;
  event.waitUntil(Promise.all([shown, badge]));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || '/inbox';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin && 'focus' in client) {
          return client.focus().then((c) => (c && 'navigate' in c ? c.navigate(url) : c));
        }
      }
      return self.clients.openWindow(url);
    }),
  );
});
