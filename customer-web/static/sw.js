// The service worker: the app's files are cached whole when a version
// installs, and every load of the app is answered from that cache, so the
// app opens with no network and never mixes the files of two versions. A
// new version (a new sw.js: its cache name changes with every build)
// installs in the background; boot.js then offers a reload. The server's
// API (/v1/…) is never cached: the app's data lives in IndexedDB and syncs
// itself.
//
// BUILD is replaced by scripts/build-customer-web.sh with a hash of the
// app's files.
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
  // `cache: 'reload'`: the files of this version, not what the browser's
  // HTTP cache may still hold of the last one.
  event.waitUntil(
    caches.open(CACHE)
      .then((c) => c.addAll(FILES.map((f) => new Request(f, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
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
    caches.open(CACHE)
      .then((cache) => cache.match(event.request, { ignoreSearch: true }))
      .then((cached) => cached || fetch(event.request))
      .catch(() => new Response('offline', { status: 503 })),
  );
});
