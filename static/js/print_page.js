/* Buttons marked data-print-page print the page (print.css decides what prints).
 * A file, not an onclick attribute: the Content-Security-Policy allows no inline script. */
(function () {
  function wire() {
    document.querySelectorAll("[data-print-page]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
