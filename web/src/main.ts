// The console's entry: hash routes #/ (the engine), #/query/<name> and #/sql.
import './style.css';
import { live } from './live';
import { renderOverview } from './overview';
import { renderQuery } from './query';
import { renderSQLBox } from './sqlbox';

const app = document.getElementById('app')!;
const conn = document.getElementById('conn')!;
let cleanup: () => void = () => {};

function route() {
  cleanup();
  const hash = location.hash.replace(/^#/, '') || '/';
  const m = /^\/query\/(.+)$/.exec(hash);
  if (m) cleanup = renderQuery(app, decodeURIComponent(m[1]));
  else if (hash === '/sql') cleanup = renderSQLBox(app);
  else cleanup = renderOverview(app);
  window.scrollTo(0, 0);
}

live.subscribe(() => {
  conn.textContent = live.connected ? 'live' : 'reconnecting…';
  conn.className = 'conn ' + (live.connected ? 'on' : 'off');
});
live.start();
window.addEventListener('hashchange', route);
route();
