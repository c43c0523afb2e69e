// vigil settings page: what app.js's declarative actions cannot do —
// show a new key's secret once, and send suppressions, whose entity is a
// nested object and whose expiry is a day.
"use strict";
(function () {
  const vigil = window.vigil;

  // endOfDay turns a date input's YYYY-MM-DD into the last second of that
  // day in UTC, as the API's RFC 3339 wants it.
  const endOfDay = (d) => d + "T23:59:59Z";

  function slotOf(el) {
    return (el.closest("form") || el.parentElement).querySelector(".form-error");
  }

  async function send(el, method, path, body, done) {
    if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) return;
    const slot = slotOf(el);
    if (slot) slot.textContent = "";
    el.setAttribute("aria-busy", "true");
    try {
      done(await vigil.api(method, path, body));
    } catch (e) {
      if (slot) slot.textContent = e.message; else vigil.flash(e.message, "error");
    } finally {
      el.removeAttribute("aria-busy");
    }
  }

  // showSecret puts a new key's secret in the box until the admin says
  // it is copied; then the page reloads (and the secret is gone).
  function showSecret(data) {
    const box = document.getElementById("secret-box");
    document.getElementById("secret-value").textContent = data.secret;
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
    box.querySelector("[data-secret-done]").focus();
  }

  function keyBody(form) {
    const body = vigil.formBody(form);
    if (body.expires) body.expires = endOfDay(body.expires);
    return body;
  }

  function suppressionBody(form) {
    const f = vigil.formBody(form);
    const body = {};
    for (const k of ["rule", "field", "value", "cidr", "reason"]) if (f[k]) body[k] = f[k];
    if (f.entity_type || f.entity_value) body.entity = { type: f.entity_type || "", value: f.entity_value || "" };
    if (f.expires) body.expires = endOfDay(f.expires);
    return body;
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-secret-api], form[data-sup-api]");
    if (!form) return;
    ev.preventDefault();
    const spec = form.dataset.secretApi || form.dataset.supApi;
    const [method, path] = spec.split(" ");
    if (form.dataset.secretApi) {
      send(form, method, path, keyBody(form), showSecret);
    } else {
      send(form, method, path, suppressionBody(form), () => location.reload());
    }
  });

  document.addEventListener("click", (ev) => {
    const rotate = ev.target.closest("button[data-secret-api]");
    if (rotate) {
      const [method, path] = rotate.dataset.secretApi.split(" ");
      send(rotate, method, path, undefined, showSecret);
      return;
    }
    if (ev.target.closest("[data-secret-copy]")) {
      const text = document.getElementById("secret-value").textContent;
      navigator.clipboard.writeText(text).then(
        () => vigil.flash("Secret copied."),
        () => vigil.flash("Copying was refused: select the secret and copy it by hand.", "error"));
      return;
    }
    if (ev.target.closest("[data-secret-done]")) {
      document.getElementById("secret-value").textContent = "";
      location.reload();
    }
  });
})();
