// Starts the app (built by wasm-bindgen --target web) and registers the
// service worker that keeps it openable without a network. An external
// file, not an inline script, so the Content-Security-Policy needs no
// exception.
import init from '/customer_web.js';

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => {
    console.warn('the app will not open offline: ' + e);
  });
}
init().catch((e) => {
  document.body.textContent = 'ShopSync could not start: ' + e;
});
