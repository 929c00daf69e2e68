// The run inspector's behaviour: live updates from /ui/changes, the log tail, keyboard keys.
// Page parts are re-fetched as HTML through htmx; text from the engine is only ever set as text.
(() => {
  "use strict";
  const live = document.getElementById("live");

  function setLive(text, on) {
    if (!live) return;
    live.textContent = text;
    live.classList.toggle("on", on);
  }

  function listen() {
    if (!window.EventSource) return setLive("", false);
    const source = new EventSource("/ui/changes");
    // On each (re)connection, refresh once: changes made since the page was rendered, or while
    // disconnected, were not sent on this stream.
    source.onopen = () => {
      setLive("live", true);
      refresh(null);
    };
    source.onerror = () => setLive("reconnecting…", false);
    source.onmessage = (event) => {
      try {
        refresh(JSON.parse(event.data));
      } catch (_) {
        // Not a change list: ignore it.
      }
    };
  }

  // One re-fetch per part at most every 300 ms, and never a change left out: a change after a
  // quiet spell is fetched at once; one that comes while a re-fetch is scheduled is shown by it
  // (it reads the state when it runs); one that comes after schedules the next, 300 ms after the
  // last. The part is looked up when the re-fetch runs, since a swap replaces it.
  const GAP_MS = 300;
  const scheduled = new Set();
  const fetched = new Map(); // selector -> when its last re-fetch began

  function poke(selector, eventName, atLeast = 0) {
    if (scheduled.has(selector)) return;
    scheduled.add(selector);
    const since = performance.now() - (fetched.get(selector) ?? -Infinity);
    setTimeout(() => {
      scheduled.delete(selector);
      const part = document.querySelector(selector);
      if (!part || !window.htmx) return;
      // Still fetching the previous state: wait for that swap, then fetch again.
      if (part.classList.contains("htmx-request")) return poke(selector, eventName, 50);
      fetched.set(selector, performance.now());
      window.htmx.trigger(part, eventName);
    }, Math.max(atLeast, GAP_MS - since));
  }

  function refresh(change) {
    if (document.querySelector("[data-live-runs]")) poke("[data-live-runs]", "runs-changed");
    const run = document.getElementById("run-body");
    if (run && (change === null || change.roots.includes(run.dataset.root))) {
      poke("#run-body", "run-changed");
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function appendLine(pre, log) {
    const line = document.createElement("span");
    line.className = "line " + (log.stream === "stderr" ? "stderr" : "stdout");
    const stamp = document.createElement("span");
    stamp.className = "ts";
    stamp.textContent = (log.timestamp || "").slice(11, 23) + " #" + log.attempt;
    line.append(stamp, " " + log.message);
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(line, "\n");
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  async function tailLogs(pre) {
    const empty = document.getElementById("logs-empty");
    for (;;) {
      const run = document.getElementById("run-body");
      const ended = !run || run.dataset.terminal === "true";
      const params = new URLSearchParams({ taskRunId: pre.dataset.run, limit: "100" });
      if (pre.dataset.cursor) params.set("cursor", pre.dataset.cursor);
      let more = false;
      try {
        const answer = await fetch("/v1/logs?" + params, { credentials: "same-origin" });
        if (answer.ok) {
          const items = await answer.json();
          for (const item of items) {
            appendLine(pre, item.log);
            pre.dataset.cursor = item.cursor;
          }
          if (items.length) {
            pre.hidden = false;
            if (empty) empty.hidden = true;
          }
          more = items.length === 100;
        }
      } catch (_) {
        // The engine is restarting: try again below.
      }
      if (more) continue;
      if (ended) return;
      await sleep(1000);
    }
  }

  function moveFocus(step) {
    const links = Array.from(document.querySelectorAll("a.row-link"));
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? (step > 0 ? 0 : links.length - 1) : at + step;
    links[Math.max(0, Math.min(links.length - 1, next))].focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "j") moveFocus(1);
    else if (event.key === "k") moveFocus(-1);
    else if (event.key === "g") window.location.assign("/");
    else if (event.key === "t") window.location.assign("/tasks");
    else if (event.key === "/") {
      const filter = document.querySelector("[data-filter]");
      if (!filter) return;
      filter.focus();
    } else return;
    event.preventDefault();
  });

  // A live swap replaces the focused link or button: give focus back to its replacement, so
  // keyboard users keep their place.
  let focused = null;
  document.addEventListener("htmx:beforeSwap", () => {
    const active = document.activeElement;
    focused = active && active !== document.body ? active.getAttribute("href") : null;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!focused) return;
    const again = Array.from(document.querySelectorAll("a[href]")).find(
      (link) => link.getAttribute("href") === focused,
    );
    if (again) again.focus();
    focused = null;
  });

  listen();
  const pre = document.getElementById("logs");
  if (pre) tailLogs(pre);
})();
