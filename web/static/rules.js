// vigil dashboard, rules page: the rule test form sends its records (one
// a line) to POST /api/v1/rules/{id}/test and shows what the rule made
// of them.
"use strict";
(function () {
  const form = document.getElementById("rule-test-form");
  if (!form) return;
  const out = document.getElementById("rule-test-result");
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const slot = form.querySelector(".form-error");
    slot.textContent = "";
    out.replaceChildren();
    const records = form.elements.records.value.split("\n").filter((l) => l.trim() !== "");
    const btn = form.querySelector("button[type=submit]");
    btn.setAttribute("aria-busy", "true");
    try {
      const res = await window.vigil.api("POST", form.dataset.path, { format: form.elements.format.value.trim(), records });
      const head = el("p");
      head.className = res.matched.length ? "rule-test-hit" : "rule-test-miss";
      head.textContent = res.matched.length
        ? "Matched " + res.matched.length + " of " + res.records + " records: line " + res.matched.join(", ") + "."
        : "Matched none of the " + res.records + " records.";
      out.append(head);
      if (res.rejected.length) {
        out.append(el("p", res.rejected.length + " could not be decoded:"));
        const ul = el("ul");
        for (const r of res.rejected) ul.append(el("li", "line " + r.line + ": " + r.reason));
        out.append(ul);
      }
      if (res.signals.length) {
        out.append(el("p", "It would raise:"));
        const ul = el("ul");
        for (const s of res.signals) {
          const li = el("li");
          li.append(el("span", s.severity, "sev sev-" + s.severity.replace("informational", "info")));
          const ents = (s.entities || []).map((e) => e.type + " " + e.value).join(", ");
          li.append(" " + s.title + (ents ? " — " + ents : "") + " (line " + s.line + ")");
          ul.append(li);
        }
        out.append(ul);
      }
    } catch (e) {
      slot.textContent = e.message;
    } finally {
      btn.removeAttribute("aria-busy");
    }
  });
})();
