/**
 * The dashboard's style sheet (`GET /dashboard/app.css`), kept as a string for the same reason
 * as the page (page.ts). Colours carry meaning: a deployment's status, a metric's DORA band
 * (elite, high, medium, low; none for the success rate, which DORA gives no band), a lock held
 * or expired, drift found, a component's result. Text says the same, for whoever cannot see them.
 */

/** `GET /dashboard/app.css` */
export const STYLES_CSS = `:root {
  --bg: #f6f8fa;
  --fg: #1f2328;
  --muted: #59636e;
  --card: #ffffff;
  --line: #d1d9e0;
  --green: #1a7f37;
  --green-bg: #dafbe1;
  --teal: #0969da;
  --teal-bg: #ddf4ff;
  --amber: #9a6700;
  --amber-bg: #fff8c5;
  --red: #cf222e;
  --red-bg: #ffebe9;
  --grey-bg: #eff2f5;
  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  font-size: 14px;
  color: var(--fg);
  background: var(--bg);
}
body { margin: 0; }
header {
  display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between;
  padding: 0.6rem 1.2rem; background: #24292f; color: #fff;
}
header h1 { font-size: 1.2rem; margin: 0; }
header .muted { color: #c9d1d9; }
form.token, .refresh, form.deploy { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
input, select, button { font: inherit; padding: 0.25rem 0.5rem; border: 1px solid var(--line); border-radius: 6px; }
button { background: #f6f8fa; cursor: pointer; }
button[type='submit'] { background: var(--green); color: #fff; border-color: var(--green); }
button:disabled { opacity: 0.5; cursor: not-allowed; }
.muted { color: var(--muted); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(32rem, 1fr)); gap: 1rem; padding: 1rem 1.2rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; overflow-x: auto; }
section#timeline { grid-column: 1 / -1; }
h2 { font-size: 1rem; margin: 0 0 0.6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.time, td.version { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em; white-space: nowrap; }
.errors { margin: 0.8rem 1.2rem 0; padding: 0.6rem 1rem 0.6rem 2rem; background: var(--red-bg); color: var(--red); border: 1px solid var(--red); border-radius: 8px; }
.status, .badge, .run-status .word, .result { display: inline-block; padding: 0 0.5rem; border-radius: 1rem; font-weight: 600; font-size: 0.9em; }
.status-success, .status-succeeded, .result-created, .result-updated, .result-replaced, .result-deleted { background: var(--green-bg); color: var(--green); }
.status-failed, .status-error, .status-refused, .result-failed, .badge.failed { background: var(--red-bg); color: var(--red); }
.status-rolled-back, .status-cancelled, .result-cancelled, .result-skipped, .badge.expired { background: var(--amber-bg); color: var(--amber); }
.status-in-progress, .status-running, .status-starting { background: var(--teal-bg); color: var(--teal); }
.status-pending, .status-idle, .result-unchanged { background: var(--grey-bg); color: var(--muted); }
.run-status { padding: 0.4rem 0.6rem; border-radius: 6px; }
.run-status .word { background: transparent; text-transform: uppercase; letter-spacing: 0.03em; }
.components { list-style: none; padding: 0; margin: 0.5rem 0; }
.components li { display: grid; grid-template-columns: 12rem 5rem 6rem 1fr; gap: 0.5rem; padding: 0.25rem 0; border-bottom: 1px solid var(--line); }
.components .state { justify-self: start; }
.components li[data-state='running'] .state { color: var(--teal); font-weight: 600; }
.components .id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.components .detail { color: var(--muted); font-size: 0.9em; overflow-wrap: anywhere; }
.notes { color: var(--muted); margin: 0.3rem 0; padding-left: 1.2rem; }
.notes li.held { color: var(--red); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.6rem; }
.tile { border-radius: 8px; padding: 0.6rem 0.8rem; border: 1px solid var(--line); border-left-width: 6px; }
.tile .label { color: var(--muted); font-size: 0.85em; }
.tile .value { font-size: 1.4rem; font-weight: 600; margin: 0.2rem 0; }
.tile .band { text-transform: uppercase; font-weight: 700; font-size: 0.8em; letter-spacing: 0.04em; }
.tile .counted { color: var(--muted); font-size: 0.8em; }
.band-elite { border-color: var(--green); background: var(--green-bg); }
.band-elite .band { color: var(--green); }
.band-high { border-color: var(--teal); background: var(--teal-bg); }
.band-high .band { color: var(--teal); }
.band-medium { border-color: var(--amber); background: var(--amber-bg); }
.band-medium .band { color: var(--amber); }
.band-low { border-color: var(--red); background: var(--red-bg); }
.band-low .band { color: var(--red); }
.band-none { background: var(--grey-bg); }
.band-none .band { color: var(--muted); }
.lock-free { color: var(--green); }
.lock-held { color: var(--amber); }
.lock-expired { color: var(--red); }
.drift-found strong { color: var(--red); }
.drift-clean strong { color: var(--green); }
[hidden] { display: none !important; }
`;
