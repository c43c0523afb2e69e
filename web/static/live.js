// vigil dashboard: live updates. A page whose body has data-live-stream
// follows GET /api/v1/stream (server-sent events); on a new or changed
// alert or incident it shows the live dot and redraws its parts marked
// data-live (with an id) from a fresh copy of the page, at most once every
// two seconds, and says how many new alerts came.
"use strict";
(function () {
  if (!document.body || !document.body.hasAttribute("data-live-stream") || !window.EventSource) return;
  const minGap = 2000; // ms between two redraws
  const dot = document.querySelector(".live-dot");
  let lastDraw = 0;
  let timer = null;
  let newAlerts = 0;
  let drawing = false;
  let pending = false;

  function live(on) {
    if (!dot) return;
    dot.hidden = !on;
    dot.classList.toggle("on", on);
  }

  // toast says what arrived, for a few seconds.
  let toastTimer = null;
  function toast(msg) {
    let el = document.querySelector(".live-toast");
    if (!el) {
      el = document.createElement("div");
      el.className = "live-toast";
      el.setAttribute("role", "status");
      document.body.append(el);
    }
    el.textContent = msg;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  // editing is true when the visitor is typing in a part: it is left as
  // it is rather than redrawn under their hands.
  function editing(el) {
    const a = document.activeElement;
    return a && el.contains(a) && a.matches("input, textarea, select, [contenteditable]");
  }

  async function redraw() {
    if (drawing) { pending = true; return; }
    drawing = true;
    lastDraw = Date.now();
    try {
      const res = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!res.ok || res.redirected) return; // signed out, or the page is gone: leave it as it is
      const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
      let n = 0;
      for (const el of document.querySelectorAll("[data-live][id]")) {
        const next = fresh.getElementById(el.id);
        if (!next || editing(el)) continue;
        const copy = document.importNode(next, true);
        copy.classList.add("live-updated");
        el.replaceWith(copy);
        n++;
      }
      if (newAlerts > 0) {
        toast(newAlerts === 1 ? "1 new alert" : newAlerts + " new alerts");
        newAlerts = 0;
      }
      document.dispatchEvent(new CustomEvent("vigil:live", { detail: { parts: n } }));
    } catch (e) {
      // A failed redraw waits for the next event.
    } finally {
      drawing = false;
      if (pending) { pending = false; schedule(); }
    }
  }

  // schedule redraws now, or when two seconds have passed since the last.
  function schedule() {
    if (timer) return;
    const wait = Math.max(0, lastDraw + minGap - Date.now());
    timer = setTimeout(() => { timer = null; redraw(); }, wait);
  }

  function onChange(ev) {
    live(true);
    try {
      const d = JSON.parse(ev.data);
      if (ev.type === "alert" && d.change === "created") newAlerts++;
    } catch (e) { /* a change without data still redraws */ }
    schedule();
  }

  const es = new EventSource("/api/v1/stream");
  es.addEventListener("open", () => live(true));
  es.addEventListener("alert", onChange);
  es.addEventListener("incident", onChange);
  // The server ends a stream now and then (and at shutdown): the browser
  // reconnects by itself with the last event's id. Only the dot tells.
  es.addEventListener("error", () => live(es.readyState === EventSource.OPEN));
  window.addEventListener("pagehide", () => es.close());
})();
