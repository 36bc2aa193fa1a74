// Loads the wasm UI (built by wasm-bindgen --target web). An external file,
// not an inline script, so the Content-Security-Policy needs no exception.
import init from './shopsync_ui.js';
init();
