// vigil dashboard: the alert queue's bulk status change and the alert
// page's "add to incident". Both call the JSON API as app.js does
// (vigil.api, with the CSRF token); the API checks the role again.
"use strict";
(function () {
  const vigil = window.vigil;

  function selected() {
    return [...document.querySelectorAll('#alert-list input[name="alert"]:checked')];
  }

  function refreshBulk() {
    const n = selected().length;
    const count = document.querySelector("[data-bulk-count]");
    if (!count) return;
    count.textContent = n === 0 ? "No alerts selected" : n === 1 ? "1 alert selected" : n + " alerts selected";
    for (const b of document.querySelectorAll("[data-bulk-status]")) b.disabled = n === 0;
    const all = document.querySelector("[data-select-all]");
    if (all) {
      const boxes = document.querySelectorAll('#alert-list input[name="alert"]');
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  }

  document.addEventListener("change", (ev) => {
    if (ev.target.matches("[data-select-all]")) {
      for (const b of document.querySelectorAll('#alert-list input[name="alert"]')) b.checked = ev.target.checked;
    }
    if (ev.target.matches('[data-select-all], #alert-list input[name="alert"]')) refreshBulk();
    // A reason classifies a closed alert only: the API refuses one with
    // an open status.
    if (ev.target.id === "status-select") reasonFits();
  });

  // Bulk: one request (PATCH /api/v1/alerts), which changes all the
  // selected alerts in one transaction, each audited, or none; a refusal
  // names the alert that stopped it.
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("[data-bulk-status]");
    if (!b) return;
    const ids = selected().map((x) => x.value);
    const slot = b.parentElement.querySelector(".form-error");
    if (slot) slot.textContent = "";
    for (const x of document.querySelectorAll("[data-bulk-status]")) x.disabled = true;
    b.setAttribute("aria-busy", "true");
    try {
      await vigil.api("PATCH", "/api/v1/alerts", { ids, status: b.dataset.bulkStatus });
      location.reload();
    } catch (e) {
      const msg = "Nothing changed: " + e.message;
      if (slot) slot.textContent = msg; else vigil.flash(msg, "error");
      refreshBulk();
    } finally {
      b.removeAttribute("aria-busy");
    }
  });

  // Add to an open incident: the path names the incident chosen.
  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-add-to-incident]");
    if (!form) return;
    ev.preventDefault();
    const id = form.elements.incident.value;
    const slot = form.querySelector(".form-error");
    if (slot) slot.textContent = "";
    try {
      await vigil.api("POST", "/api/v1/incidents/" + encodeURIComponent(id) + "/alerts", { alert_ids: [form.dataset.alert] });
      location.assign("/incidents/" + encodeURIComponent(id));
    } catch (e) {
      if (slot) slot.textContent = e.message; else vigil.flash(e.message, "error");
    }
  });

  function reasonFits() {
    const st = document.getElementById("status-select");
    const re = document.getElementById("reason-select");
    if (!st || !re) return;
    const open = st.value === "new" || st.value === "active";
    re.disabled = open;
    if (open) re.value = "";
  }

  document.addEventListener("DOMContentLoaded", () => { refreshBulk(); reasonFits(); });
})();
