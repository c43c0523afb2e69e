// vigil dashboard, feeds page: the add-indicator form sends its fields as
// the one indicator of POST /api/v1/intel/indicators (a list, which the
// declarative data-api forms do not build).
"use strict";
(function () {
  const form = document.getElementById("add-indicator");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const slot = form.querySelector(".form-error");
    slot.textContent = "";
    const btn = form.querySelector("button[type=submit]");
    btn.setAttribute("aria-busy", "true");
    try {
      const ind = window.vigil.formBody(form);
      const res = await window.vigil.api("POST", "/api/v1/intel/indicators", { indicators: [ind] });
      location.assign("/intel?lookup=" + encodeURIComponent(ind.value) + "&added=" + encodeURIComponent(res.feed));
    } catch (e) {
      slot.textContent = e.message;
    } finally {
      btn.removeAttribute("aria-busy");
    }
  });
})();
