// The service worker: the app's files are cached at install, and every
// page load is answered from the cache at once (so the app opens with no
// network), while a fresh copy is fetched in the background for the next
// load. The server's API (/v1/…) is never cached: the app's data lives in
// IndexedDB and syncs itself.
//
// BUILD is replaced by scripts/build-customer-web.sh with a hash of the
// app's files: a new build gets a new cache, and the old one is dropped.
const CACHE = 'shopsync-app-BUILD';
const FILES = [
  '/',
  '/index.html',
  '/boot.js',
  '/customer_web.js',
  '/customer_web_bg.wasm',
  '/style.css',
  '/manifest.webmanifest',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin
      || url.pathname.startsWith('/v1/') || url.pathname === '/healthz' || url.pathname === '/metrics') {
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(event.request, { ignoreSearch: true });
      const fresh = fetch(event.request)
        .then((resp) => {
          if (resp.ok) cache.put(event.request, resp.clone());
          return resp;
        })
        .catch(() => undefined);
      if (cached) {
        event.waitUntil(fresh);
        return cached;
      }
      return (await fresh) || new Response('offline', { status: 503 });
    }),
  );
});
