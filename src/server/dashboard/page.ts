/**
 * The dashboard's page: its HTML skeleton, filled by the browser code (client/, compiled to
 * dist/server/dashboard/client/), which it loads as a module from /dashboard/main.js. Kept as a
 * string in the server's code rather than a file copied at build, so the server always has it
 * wherever it runs from (src/ under vitest, dist/ when installed). No inline script or style:
 * the page's Content-Security-Policy allows its own files only.
 */

/** `GET /` */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>deployer</title>
    <link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/dashboard/app.css" />
    <script type="module" src="/dashboard/main.js"></script>
  </head>
  <body>
    <header>
      <h1>deployer</h1>
      <form id="token-form" class="token" autocomplete="off">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" placeholder="dpl_… (none: insecure-local)" spellcheck="false" />
        <button type="submit">Use token</button>
        <button type="button" id="forget">Forget</button>
        <span id="auth-state" class="muted"></span>
      </form>
      <div class="refresh">
        <button type="button" id="refresh">Refresh</button>
        <span id="updated" class="muted"></span>
      </div>
    </header>
    <ul id="errors" class="errors" role="alert" hidden></ul>
    <main>
      <section id="deploy" aria-labelledby="deploy-title">
        <h2 id="deploy-title">Deploy</h2>
        <form id="deploy-form" class="deploy">
          <label for="deploy-stack">Stack</label>
          <select id="deploy-stack" name="stack"></select>
          <label for="deploy-environment">Environment</label>
          <select id="deploy-environment" name="environment"></select>
          <button type="submit" id="deploy-button" disabled>Deploy</button>
        </form>
        <div id="run" class="run">
          <p id="run-status" class="run-status" data-status="idle" aria-live="polite">No run started from this page yet.</p>
          <ol id="run-components" class="components"></ol>
          <ul id="run-notes" class="notes"></ul>
        </div>
      </section>
      <section id="metrics" aria-labelledby="metrics-title">
        <h2 id="metrics-title">DORA metrics</h2>
        <p class="muted">
          <select id="metrics-scope" aria-label="environments counted">
            <option value="production">production environments</option>
            <option value="all">all environments</option>
          </select>
          <span id="metrics-window"></span>
        </p>
        <div id="tiles" class="tiles"></div>
      </section>
      <section id="stacks" aria-labelledby="stacks-title">
        <h2 id="stacks-title">Stacks</h2>
        <table>
          <thead>
            <tr><th>Stack</th><th>Environment</th><th>Lock</th><th>Last drift check</th></tr>
          </thead>
          <tbody id="stacks-body"></tbody>
        </table>
      </section>
      <section id="timeline" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Recent deployments</h2>
        <table>
          <thead>
            <tr><th>Started</th><th>Stack / service</th><th>Environment</th><th>Version</th><th>Type</th><th>Status</th></tr>
          </thead>
          <tbody id="timeline-body"></tbody>
        </table>
      </section>
    </main>
  </body>
</html>
`;

/** `GET /dashboard/icon.svg`: a small mark, so the browser's request for an icon finds one. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/><path d="M4 8h6M8 5l3 3-3 3" stroke="#fff" stroke-width="1.6" fill="none"/></svg>
`;
