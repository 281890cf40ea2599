/**
 * The dashboard's entry module (`/dashboard/main.js`, loaded by the page as a module, so after
 * the document is parsed): starts the page, refreshing its lists every half minute.
 */
/// <reference lib="dom" />
import { boot } from './app.js';

boot(document, { refreshEveryMs: 30_000 });
