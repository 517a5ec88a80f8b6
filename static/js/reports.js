/* The reports' plots: each <canvas data-chart="key"> is drawn with Chart.js from the chart of
 * that key in the JSON the page embeds with {{ charts|json_script:"report-charts-data" }}:
 *   [{"key", "title", "kind": "bar" | "line", "labels": [...],
 *     "datasets": [{"label", "values": [number | null]}], "y_label"}]
 * Chart.js (vendor/chartjs/chart.umd.js) is loaded before this file, both deferred. A drawn
 * canvas gets data-rendered="true". The tables under the plots hold the same figures, for
 * screen readers and for when this script does not run. No inline script: CSP friendly.
 */
(function () {
  "use strict";

  // Colour-blind safe (Okabe-Ito).
  const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  let started = false;

  function reducedMotion() {
    return Boolean(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  function config(chart) {
    const datasets = (chart.datasets || []).map(function (set, index) {
      const color = COLORS[index % COLORS.length];
      return {
        label: set.label,
        data: set.values,
        backgroundColor: color,
        borderColor: color,
        borderWidth: chart.kind === "line" ? 2 : 0,
        pointRadius: chart.kind === "line" ? 2 : 0,
        spanGaps: true,
        tension: 0,
      };
    });
    return {
      type: chart.kind === "line" ? "line" : "bar",
      data: { labels: chart.labels || [], datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion()
          ? false
          : {
              duration: 300,
              onComplete: function (context) {
                context.chart.canvas.dataset.rendered = "true";
              },
            },
        scales: {
          x: { ticks: { autoSkip: true, maxRotation: 45 } },
          y: {
            beginAtZero: true,
            title: { display: Boolean(chart.y_label), text: chart.y_label || "" },
          },
        },
        plugins: { legend: { position: "bottom" } },
      },
      plugins: [
        {
          id: "renderedMark",
          afterRender: function (drawn) {
            if (!drawn.options.animation) drawn.canvas.dataset.rendered = "true";
          },
        },
      ],
    };
  }

  function draw() {
    const source = document.getElementById("report-charts-data");
    if (started || !source || typeof window.Chart === "undefined") return;
    let charts;
    try {
      charts = JSON.parse(source.textContent) || [];
    } catch (error) {
      return;
    }
    started = true;
    window.Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#1b2430";
    charts.forEach(function (chart) {
      const canvas = document.querySelector('canvas[data-chart="' + chart.key + '"]');
      if (canvas) new window.Chart(canvas, config(chart));
    });
  }

  // The printable height of an A4 landscape page less reports.css's 8 mm margins, in CSS px.
  const PAGE_HEIGHT = ((210 - 16) / 25.4) * 96;

  /* On paper a report fills one page: when the print layout is taller than a page, the
   * report is zoomed out until it fits (set through the CSSOM, which the CSP allows). */
  function fitToPage() {
    const report = document.querySelector(".report");
    if (!report) return;
    report.style.zoom = "";
    const height = report.getBoundingClientRect().height;
    if (height > PAGE_HEIGHT) report.style.zoom = String(Math.floor((PAGE_HEIGHT / height) * 95) / 100);
  }

  function unfit() {
    const report = document.querySelector(".report");
    if (report) report.style.zoom = "";
  }

  function wirePrint() {
    window.addEventListener("beforeprint", fitToPage);
    window.addEventListener("afterprint", unfit);
    if (window.matchMedia) {
      const paper = window.matchMedia("print");
      if (paper.addEventListener) {
        paper.addEventListener("change", function (event) {
          if (event.matches) fitToPage();
          else unfit();
        });
      }
    }
    document.querySelectorAll(".print-report").forEach(function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  function start() {
    wirePrint();
    draw();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.addEventListener("load", draw);
})();
