// Incident page: the assessment's intent edit, whose body (the section
// and the list of sections it replaces) app.js's form fields cannot say.
"use strict";
(function () {
  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-intent]");
    if (!form) return;
    ev.preventDefault();
    const slot = form.querySelector(".form-error");
    const reasons = form.elements.reasons.value.split("\n").map((s) => s.trim()).filter(Boolean);
    const body = { assessment: { intent: { estimate: form.elements.estimate.value, reasons } }, sections: ["intent"] };
    try {
      await window.vigil.api("PATCH", form.dataset.intent, body);
      location.reload();
    } catch (e) {
      if (slot) slot.textContent = e.message;
    }
  });
})();
