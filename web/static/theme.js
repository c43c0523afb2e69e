// The visitor's theme choice, applied before the page is drawn (this
// script is not deferred), so that a dark page does not flash light.
"use strict";
try {
  const t = localStorage.getItem("vigil-theme");
  if (t === "dark" || t === "light") document.documentElement.dataset.theme = t;
} catch (e) { /* storage refused: the system's preference applies */ }
