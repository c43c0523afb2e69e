// vigil dashboard: the few behaviours the server-rendered pages need.
// Changes go to the API with the session's CSRF token; pages say what to
// send with data attributes, so that page scripts stay rare and small.
"use strict";
(function () {
  const vigil = (window.vigil = window.vigil || {});
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // api sends a request to the API and resolves to the parsed JSON (or
  // null); a refusal rejects with the problem document's detail.
  vigil.api = async function (method, path, body) {
    const opt = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") opt.headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) {
      opt.headers["Content-Type"] = "application/json";
      opt.body = JSON.stringify(body);
    }
    const res = await fetch(path, opt);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      const msg = (data && (data.detail || data.title)) || res.status + " " + res.statusText;
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return data;
  };

  // flash shows a message at the top of the page.
  vigil.flash = function (msg, kind) {
    let el = document.querySelector(".flash.js");
    if (!el) {
      el = document.createElement("div");
      el.className = "flash js";
      el.setAttribute("role", "alert");
      const main = document.getElementById("main");
      main.insertBefore(el, main.firstChild);
    }
    el.classList.toggle("error", kind === "error");
    el.textContent = msg;
  };

  // formBody turns a form's fields into the JSON body: empty fields are
  // left out, data-type="number" fields are numbers, data-type="list" a
  // list split at commas, checkboxes of one name a list of their values,
  // a lone checkbox with data-type="bool" true or false.
  vigil.formBody = function (form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") continue;
      const type = el.dataset.type || "";
      if (el.type === "checkbox") {
        if (type === "bool") { body[el.name] = el.checked; continue; }
        if (!el.checked) continue;
        (body[el.name] = body[el.name] || []).push(el.value);
        continue;
      }
      if (el.type === "radio" && !el.checked) continue;
      let v = el.value;
      if (v === "" && !("keepEmpty" in el.dataset)) continue;
      if (type === "number") v = Number(v);
      else if (type === "list") v = v.split(",").map((s) => s.trim()).filter(Boolean);
      else if (type === "json") { try { v = JSON.parse(v); } catch (e) { throw new Error(el.name + ": not valid JSON"); } }
      body[el.name] = v;
    }
    return body;
  };

  // then does what data-then says after a change: "reload" (the
  // default), a path to go to ("{id}" is the answer's id), or "none".
  function then(el, data) {
    const t = el.dataset.then || "reload";
    if (t === "none") return;
    if (t === "reload") { location.reload(); return; }
    location.assign(t.replace("{id}", data && data.id ? encodeURIComponent(data.id) : ""));
  }

  function errorSlot(el) {
    return (el.closest("form") || el.parentElement).querySelector(".form-error");
  }

  async function act(el, method, path, body) {
    if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) return;
    const slot = errorSlot(el);
    if (slot) slot.textContent = "";
    el.setAttribute("aria-busy", "true");
    try {
      const data = await vigil.api(method, path, body);
      then(el, data);
    } catch (e) {
      if (slot) slot.textContent = e.message; else vigil.flash(e.message, "error");
    } finally {
      el.removeAttribute("aria-busy");
    }
  }

  // <form data-api="PATCH /api/v1/alerts/ID"> sends its fields as JSON.
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-api]");
    if (!form) return;
    ev.preventDefault();
    const [method, path] = form.dataset.api.split(" ");
    let body;
    try { body = vigil.formBody(form); } catch (e) { vigil.flash(e.message, "error"); return; }
    if (form.dataset.wrap) body = { [form.dataset.wrap]: body };
    act(form, method, path, method === "DELETE" && Object.keys(body).length === 0 ? undefined : body);
  });

  // <button data-api="POST /path" data-body='{"a":1}'> sends a fixed body.
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-api]");
    if (b && !b.form?.dataset.api) {
      ev.preventDefault();
      const [method, path] = b.dataset.api.split(" ");
      act(b, method, path, b.dataset.body ? JSON.parse(b.dataset.body) : undefined);
      return;
    }
    if (ev.target.closest("[data-signout]")) {
      vigil.api("DELETE", "/api/v1/session").catch(() => {}).finally(() => location.assign("/signin"));
      return;
    }
    if (ev.target.closest("[data-theme-toggle]")) {
      const dark = document.documentElement.dataset.theme !== "dark" &&
        !(document.documentElement.dataset.theme !== "light" && matchMedia("(prefers-color-scheme: dark)").matches);
      document.documentElement.dataset.theme = dark ? "dark" : "light";
      try { localStorage.setItem("vigil-theme", dark ? "dark" : "light"); } catch (e) { /* private mode */ }
    }
  });

  // <select data-nav> and filter forms with data-autosubmit go at once.
  document.addEventListener("change", (ev) => {
    const f = ev.target.closest("form[data-autosubmit]");
    if (f && ev.target.matches("select, input[type=checkbox], input[type=date], input[type=datetime-local]")) f.requestSubmit();
  });

  // Keys: g then o/a/i/t/d/s/r/f/x/e goes to a page, / to the filter,
  // j/k through the rows of a list and Enter opens one, ? shows them.
  const goKeys = { o: "/", a: "/alerts", i: "/incidents", t: "/threats", d: "/databases", s: "/sources",
    r: "/rules", f: "/intel", x: "/assets", e: "/settings" };
  let pendingG = false;
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target.closest("input, textarea, select, [contenteditable]")) return;
    if (pendingG) {
      pendingG = false;
      if (goKeys[ev.key]) { location.assign(goKeys[ev.key]); ev.preventDefault(); }
      return;
    }
    if (ev.key === "g") { pendingG = true; return; }
    if (ev.key === "/") {
      const f = document.querySelector("[data-filter]");
      if (f) { f.focus(); ev.preventDefault(); }
      return;
    }
    if (ev.key === "j" || ev.key === "k") {
      const rows = [...document.querySelectorAll("[data-row]")];
      if (!rows.length) return;
      const i = rows.indexOf(document.activeElement.closest("[data-row]"));
      const n = ev.key === "j" ? Math.min(i + 1, rows.length - 1) : Math.max(i - 1, 0);
      const target = rows[n].matches("a, button") ? rows[n] : rows[n].querySelector("a") || rows[n];
      target.focus();
      ev.preventDefault();
      return;
    }
    if (ev.key === "?") {
      const d = document.getElementById("keys-help");
      if (d) { d.hidden = !d.hidden; ev.preventDefault(); }
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (document.getElementById("keys-help") || !document.querySelector("header.top")) return;
    const d = document.createElement("aside");
    d.id = "keys-help";
    d.className = "card keys-help";
    d.hidden = true;
    d.setAttribute("aria-label", "Keyboard shortcuts");
    const rows = [["g o", "overview"], ["g a", "alerts"], ["g i", "incidents"], ["g t", "threat intelligence"],
      ["g d", "databases"], ["g s", "sources"], ["g r", "rules"], ["g f", "feeds"], ["g x", "assets"], ["g e", "settings"],
      ["/", "filter"], ["j / k", "next / previous row"], ["?", "this help"]];
    const dl = document.createElement("dl");
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    }
    d.append(dl);
    document.body.append(d);
  });
})();
