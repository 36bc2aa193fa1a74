// Starts the app (built by wasm-bindgen --target web) and registers the
// service worker that keeps it openable without a network. An external
// file, not an inline script, so the Content-Security-Policy needs no
// exception.
import init from '/customer_web.js';

if ('serviceWorker' in navigator) {
  const hadWorker = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => {
    console.warn('the app will not open offline: ' + e);
  });
  // A new version took over: offer it (every edit is already saved).
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadWorker || document.getElementById('new-version')) return;
    const bar = document.createElement('div');
    bar.id = 'new-version';
    bar.className = 'message';
    bar.setAttribute('role', 'status');
    bar.setAttribute('data-testid', 'new-version');
    bar.textContent = 'A new version of ShopSync is ready. ';
    const button = document.createElement('button');
    button.className = 'btn';
    button.textContent = 'Reload';
    button.addEventListener('click', () => location.reload());
    bar.appendChild(button);
    document.body.prepend(bar);
  });
}
init().catch((e) => {
  document.body.textContent = 'ShopSync could not start: ' + e;
});
