/* Keyboard access to what scrolls sideways (issue 19; book/_ext/reader.py adds this to every page).
   A box that scrolls must be reachable with the keyboard, or its hidden part is out of reach for anyone without a
   mouse or touch screen: give every output or table box that overflows a tab stop and a name. The theme does the
   same for code blocks. */
(function () {
  "use strict";
  var BOXES = ".cell_output .output.text_html, .cell_output .output.text_plain, .pst-scrollable-table-container,"
    + " .bd-article .table-wrapper, .bd-article pre, .bd-article table, .bd-article mjx-container[display=\"true\"]";
  function mark() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("role") && !["PRE", "TABLE", "MJX-CONTAINER"].includes(box.tagName)) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", box.querySelector("table") ? "Table (scrolls sideways)" : "Output (scrolls sideways)");
        }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mark); } else { mark(); }
  window.addEventListener("load", function () {
    mark();
    // formulas are typeset after the page has loaded
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      window.MathJax.startup.promise.then(mark);
    }
  });
  window.addEventListener("resize", function () { window.clearTimeout(mark.t); mark.t = window.setTimeout(mark, 200); });
})();
