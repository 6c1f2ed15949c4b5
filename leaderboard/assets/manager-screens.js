// The manager view's screens panel: the wall screens the server knows (`GET /api/v1/screens`), dark ones first,
// what each shows, its last frame and whether it runs an older page; refreshed every 15 s. A server without the
// endpoint, or a token not allowed to read it, hides the panel.
"use strict";

const SCREENS_MS = 15000;

/** A configured screen's card: state (dark or online), label, needs-reload mark; what it shows, last frame. */
function screenCard(s, serverVersion) {
  const online = s.dark ? M.screenDark : M.screenOnline + (s.connections > 1 ? ` ×${s.connections}` : "");
  const shows = s.showing ? M.screenShows(BOARD_TITLES[s.showing] || s.showing) : null;
  const seen = s.last_frame_at ? M.lastFrame(clock(s.last_frame_at)) : M.neverSeen;
  const reload = s.version && s.version !== serverVersion;
  return h("li", { className: `screen-card${s.dark ? " dark" : ""}`, dataset: { screen: s.name }, title: `${s.label || s.name} (${s.name})` },
    h("div", { className: "sc-head" },
      h("span", { className: `sc-state ${s.dark ? "dark" : "online"}` }, online),
      h("strong", { className: "sc-label" }, s.label || s.name),
      reload ? h("span", { className: "sc-reload", title: `${s.version} → ${serverVersion}` }, M.needsReload) : null),
    h("div", { className: "sc-meta" }, shows ? h("span", {}, shows) : null, h("span", {}, seen)));
}

/** Draws the panel: configured screens (dark first, then by label), and how many other pages are connected. */
function renderScreens(doc) {
  const collator = new Intl.Collator(LOCALE);
  const screens = [...doc.screens].sort((a, b) => (b.dark - a.dark) || collator.compare(a.label || a.name, b.label || b.name));
  const named = new Set(doc.screens.map((s) => s.name));
  const others = doc.connections.filter((c) => !named.has(c.screen));
  $("screens").hidden = !screens.length && !others.length;
  $("screens-dark").textContent = screens.some((s) => s.dark) ? M.screensDark(screens.filter((s) => s.dark).length) : "";
  $("screen-list").replaceChildren(...screens.map((s) => screenCard(s, doc.server_version)));
  const other = $("screens-other");
  other.textContent = others.length ? M.otherConnections(others.length) : "";
  other.title = others.map((c) => c.token_label || c.screen || "").filter(Boolean).join(M.list);
}

/** Loads the screens; a 404 or 403 hides the panel for good, another failure keeps what is shown. */
async function loadScreens() {
  try {
    renderScreens(await getJson("/api/v1/screens"));
  } catch (e) {
    if (e.status === 404 || e.status === 403) {
      $("screens").hidden = true;
      clearInterval(loadScreens.timer);
    }
  }
}

function startScreens() {
  $("screens-title").textContent = M.screens;
  loadScreens();
  loadScreens.timer = setInterval(loadScreens, SCREENS_MS);
}
