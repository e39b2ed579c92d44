// Starts the NHS.UK design system's components (header menu, skip link,
// error summary...). A file of its own because the CSP forbids inline
// scripts; loaded as a module, so it runs once the page is parsed.
import { initAll } from "./nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// Search filters: with JavaScript, ticking a box narrows the results at
// once (htmx swaps the results in); without it, the "Apply filters" button
// does the same by reloading the page.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.form && box.form.matches("[data-auto-submit]")) {
    box.form.requestSubmit();
  }
});

// On a small screen the search filters start folded, so that the results
// come first; again after htmx swaps in new results. Without JavaScript
// they stay open.
const foldFilters = () => {
  if (window.matchMedia("(max-width: 40.0525em)").matches) {
    for (const d of document.querySelectorAll("details.concord-narrow[open]")) d.removeAttribute("open");
  }
};
foldFilters();
document.body.addEventListener("htmx:afterSwap", foldFilters);
