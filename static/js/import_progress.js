/* The progress bar of a running import: polls the job's status (figures only, no names)
 * and shows the outcome page once it is done. A file: the CSP allows no inline script. */
(function () {
  var POLL_MS = 1000;

  function poll(bar, figures) {
    fetch(bar.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (status) {
        bar.value = status.percent;
        bar.textContent = status.percent + "%";
        bar.dataset.state = status.state;
        figures.textContent = status.processed + " of " + status.total + " rows (" + status.percent + "%)";
        if (status.state === "queued" || status.state === "running") {
          window.setTimeout(function () { poll(bar, figures); }, POLL_MS);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(function () { poll(bar, figures); }, POLL_MS * 5);
      });
  }

  function start() {
    var bar = document.getElementById("import-progress");
    var figures = document.querySelector("[data-import-figures]");
    if (bar && figures) poll(bar, figures);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
