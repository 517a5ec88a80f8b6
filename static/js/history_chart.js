/* The physician's view: pain and disability scores over time, with each procedure marked.
 *
 * Reads the JSON that the page embeds with {{ chart|json_script:"history-chart-data" }}:
 *   {"series": [{"key", "label", "axis": "nrs" | "percent", "region"?, "points": [{"t": ISO, "y": n}]}],
 *    "procedures": [{"t": ISO, "label", "name", "id"}]}
 * Pain comes as one series per body region ("nrs_low_back", "nrs_leg", ...), each its own
 * line in the legend; ODI and NDI are "odi" and "ndi".
 * and draws it on <canvas id="history-chart"> with Chart.js (vendor/chartjs/chart.umd.js,
 * loaded before this file, both deferred). NRS is on a 0-10 left axis, ODI and NDI on a
 * 0-100 right axis; x is time as epoch milliseconds on a linear axis (no date adapter).
 * Each procedure is a triangle at the top (its name, side and levels in the tooltip) and a
 * thin vertical line with the procedure's name written along it, drawn by a small plugin
 * below. The chart fills its box (.chart-box) in width and height.
 *
 * When drawn, the canvas gets data-rendered="true", data-procedure-markers="<count>",
 * data-procedure-labels="<names written>" and data-datasets="<lines drawn>".
 * No inline script: the page stays CSP friendly. The page's data table is the fallback
 * for screen readers and for when this script does not run.
 */
(function () {
  "use strict";

  const DAY = 24 * 60 * 60 * 1000;
  const MONTH = 30.44 * DAY;
  // Colour-blind safe (Okabe-Ito), and each series also differs by point shape and dash.
  const STYLES = {
    nrs: { color: "#0072B2", pointStyle: "circle", dash: [] },
    odi: { color: "#D55E00", pointStyle: "rect", dash: [6, 3] },
    ndi: { color: "#009E73", pointStyle: "rectRot", dash: [2, 3] },
  };
  // Pain lines, one per body region, in the order the page sends them.
  const REGION_STYLES = [
    { color: "#0072B2", pointStyle: "circle", dash: [] },
    { color: "#E69F00", pointStyle: "triangle", dash: [4, 2] },
    { color: "#CC79A7", pointStyle: "star", dash: [8, 2, 2, 2] },
    { color: "#56B4E9", pointStyle: "crossRot", dash: [1, 2] },
    { color: "#000000", pointStyle: "rectRounded", dash: [10, 4] },
  ];
  const FALLBACK_STYLES = [
    { color: "#CC79A7", pointStyle: "star", dash: [8, 2, 2, 2] },
    { color: "#56B4E9", pointStyle: "crossRot", dash: [1, 2] },
  ];
  const PROCEDURE_COLOR = "#1b2430";
  const PROCEDURE_LINE = "rgba(27, 36, 48, 0.45)";
  const LABEL_FONT = "11px sans-serif";
  const LABEL_GAP = 14; // px between two names written along their lines
  const LABEL_MAX = 32; // characters of a name written on the chart (the tooltip has it all)
  // Tick spacings tried in order until the ticks fit: days, then months.
  const STEPS = [
    { unit: "day", n: 1 },
    { unit: "day", n: 2 },
    { unit: "day", n: 7 },
    { unit: "day", n: 14 },
    { unit: "month", n: 1 },
    { unit: "month", n: 2 },
    { unit: "month", n: 3 },
    { unit: "month", n: 6 },
    { unit: "month", n: 12 },
    { unit: "month", n: 24 },
    { unit: "month", n: 60 },
  ];

  const locale = document.documentElement.lang || undefined;
  const formats = {
    day: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" }),
    dayYear: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric" }),
    month: new Intl.DateTimeFormat(locale, { month: "short", year: "numeric" }),
    year: new Intl.DateTimeFormat(locale, { year: "numeric" }),
    full: new Intl.DateTimeFormat(locale, {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    }),
  };

  function reducedMotion() {
    return Boolean(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  function toPoints(points) {
    return (points || [])
      .map(function (p) {
        return { x: Date.parse(p.t), y: Number(p.y) };
      })
      .filter(function (p) {
        return Number.isFinite(p.x) && Number.isFinite(p.y);
      })
      .sort(function (a, b) {
        return a.x - b.x;
      });
  }

  function stepMs(step) {
    return step.unit === "day" ? step.n * DAY : step.n * MONTH;
  }

  /* Ticks on calendar boundaries (local midnight, first of a month or of a year) between
   * min and max, at most about maxTicks of them; each remembers how to label itself. */
  function timeTicks(min, max, maxTicks) {
    const span = Math.max(max - min, 1);
    let step = STEPS[STEPS.length - 1];
    for (const candidate of STEPS) {
      if (span / stepMs(candidate) <= maxTicks) {
        step = candidate;
        break;
      }
    }
    const start = new Date(min);
    let d;
    if (step.unit === "day") {
      d = new Date(start.getFullYear(), start.getMonth(), start.getDate());
      if (d.getTime() < min) d.setDate(d.getDate() + 1);
    } else {
      d = new Date(start.getFullYear(), start.getMonth(), 1);
      if (d.getTime() < min) d.setMonth(d.getMonth() + 1);
      let guard = 0;
      while ((d.getFullYear() * 12 + d.getMonth()) % step.n !== 0 && guard++ < 120) {
        d.setMonth(d.getMonth() + 1);
      }
    }
    const label = step.unit === "day" ? "day" : step.n >= 12 ? "year" : "month";
    const ticks = [];
    while (d.getTime() <= max && ticks.length < 200) {
      ticks.push({ value: d.getTime(), label: label });
      if (step.unit === "day") d.setDate(d.getDate() + step.n);
      else d.setMonth(d.getMonth() + step.n);
    }
    return ticks;
  }

  /* A thin vertical line at each procedure, behind the series; counts what it drew. */
  const procedureLines = {
    id: "procedureLines",
    beforeDatasetsDraw: function (chart) {
      const x = chart.scales.x;
      const area = chart.chartArea;
      const ctx = chart.ctx;
      let drawn = 0;
      let labelled = 0;
      let lastLabel = -Infinity;
      ctx.save();
      ctx.strokeStyle = PROCEDURE_LINE;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      const markers = chart.data.datasets.find(function (d) {
        return d.key === "procedures";
      });
      for (const procedure of markers ? markers.data : []) {
        const px = x.getPixelForValue(procedure.x);
        if (!Number.isFinite(px) || px < area.left - 0.5 || px > area.right + 0.5) continue;
        ctx.beginPath();
        ctx.moveTo(Math.round(px) + 0.5, area.top);
        ctx.lineTo(Math.round(px) + 0.5, area.bottom);
        ctx.stroke();
        drawn += 1;
        if (px - lastLabel >= LABEL_GAP && procedure.name) {
          writeAlong(ctx, procedure.name, px, area.top + 16);
          lastLabel = px;
          labelled += 1;
        }
      }
      ctx.restore();
      chart.$procedureMarkers = drawn;
      chart.$procedureLabels = labelled;
    },
    afterRender: function (chart) {
      const canvas = chart.canvas;
      canvas.dataset.procedureMarkers = String(chart.$procedureMarkers || 0);
      canvas.dataset.procedureLabels = String(chart.$procedureLabels || 0);
      canvas.dataset.datasets = String(
        chart.data.datasets.filter(function (d) {
          return d.key !== "procedures";
        }).length,
      );
      // "rendered" once the points are where they belong, not in the middle of the
      // opening animation (a screenshot then shows the real chart).
      if (!chart.options.animation || chart.$animationDone) canvas.dataset.rendered = "true";
    },
  };

  /* The procedure's name, written downwards beside its line (the line stays readable). */
  function writeAlong(ctx, name, px, top) {
    const text = name.length > LABEL_MAX ? name.slice(0, LABEL_MAX - 1) + "…" : name;
    ctx.save();
    ctx.setLineDash([]);
    ctx.font = LABEL_FONT;
    ctx.fillStyle = PROCEDURE_COLOR;
    ctx.textBaseline = "top";
    ctx.translate(Math.round(px) + 3, top);
    ctx.rotate(Math.PI / 2);
    ctx.fillText(text, 0, 0);
    ctx.restore();
  }

  function opening() {
    return {
      duration: 400,
      onComplete: function (context) {
        context.chart.$animationDone = true;
        context.chart.canvas.dataset.rendered = "true";
      },
    };
  }

  function buildConfig(data, canvas) {
    const series = (data.series || []).map(function (s) {
      return Object.assign({}, s, { points: toPoints(s.points) });
    });
    const procedures = (data.procedures || [])
      .map(function (p) {
        return {
          x: Date.parse(p.t),
          label: String(p.label || "Procedure"),
          name: String(p.name || ""),
          id: p.id,
        };
      })
      .filter(function (p) {
        return Number.isFinite(p.x);
      })
      .sort(function (a, b) {
        return a.x - b.x;
      });

    const times = procedures.map(function (p) {
      return p.x;
    });
    series.forEach(function (s) {
      s.points.forEach(function (p) {
        times.push(p.x);
      });
    });
    let min = times.length ? Math.min.apply(null, times) : Date.now() - 30 * DAY;
    let max = times.length ? Math.max.apply(null, times) : Date.now();
    if (max - min < 14 * DAY) {
      const middle = (min + max) / 2;
      min = middle - 7 * DAY;
      max = middle + 7 * DAY;
    }
    const pad = (max - min) * 0.03;
    min -= pad;
    max += pad;

    let fallback = 0;
    let regionStyle = 0;
    const datasets = series
      .filter(function (s) {
        return s.points.length > 0;
      })
      .map(function (s) {
        const style = s.region
          ? REGION_STYLES[regionStyle++ % REGION_STYLES.length]
          : STYLES[s.key] || FALLBACK_STYLES[fallback++ % FALLBACK_STYLES.length];
        return {
          key: s.key,
          label: s.label,
          data: s.points,
          yAxisID: s.axis === "percent" ? "percent" : "nrs",
          borderColor: style.color,
          backgroundColor: style.color,
          borderDash: style.dash,
          borderWidth: 2,
          pointStyle: style.pointStyle,
          pointRadius: 4,
          pointHoverRadius: 6,
          tension: 0,
          spanGaps: true,
        };
      });
    const hasPercent = datasets.some(function (d) {
      return d.yAxisID === "percent";
    });
    if (procedures.length) {
      datasets.push({
        key: "procedures",
        type: "scatter",
        label: "Procedures",
        data: procedures.map(function (p) {
          return { x: p.x, y: 10, label: p.label, name: p.name, id: p.id };
        }),
        yAxisID: "nrs",
        pointStyle: "triangle",
        rotation: 180, // pointing down at the line it heads
        pointRadius: 7,
        pointHoverRadius: 9,
        borderColor: PROCEDURE_COLOR,
        backgroundColor: PROCEDURE_COLOR,
        clip: false,
        order: -1, // drawn above the series
      });
    }

    const narrow = function () {
      return (canvas.parentElement ? canvas.parentElement.clientWidth : canvas.width) < 560;
    };

    return {
      type: "line",
      data: { datasets: datasets },
      plugins: [procedureLines],
      options: {
        responsive: true,
        // The box (.chart-box) sets the height; the chart takes its card's whole width.
        maintainAspectRatio: false,
        animation: reducedMotion() ? false : opening(),
        normalized: true,
        layout: { padding: { top: 12 } },
        interaction: { mode: "nearest", intersect: true },
        scales: {
          x: {
            type: "linear",
            min: min,
            max: max,
            afterBuildTicks: function (scale) {
              const ticks = timeTicks(scale.min, scale.max, narrow() ? 4 : 8);
              if (ticks.length) scale.ticks = ticks;
            },
            ticks: {
              autoSkip: true,
              maxRotation: 0,
              callback: function (value, index, ticks) {
                const tick = ticks[index] || {};
                const kind = tick.label || "day";
                const date = new Date(value);
                if (kind === "day") {
                  // Day ticks name the year on the first tick and where the year changes.
                  const previous = index > 0 ? new Date(ticks[index - 1].value) : null;
                  const newYear = !previous || previous.getFullYear() !== date.getFullYear();
                  return formats[newYear ? "dayYear" : "day"].format(date);
                }
                return formats[kind].format(date);
              },
            },
            grid: { color: "rgba(27, 36, 48, 0.08)" },
          },
          nrs: {
            type: "linear",
            position: "left",
            min: 0,
            max: 10,
            ticks: { stepSize: 2 },
            title: { display: true, text: "Pain (NRS 0–10)" },
            grid: { color: "rgba(27, 36, 48, 0.08)" },
          },
          percent: {
            type: "linear",
            position: "right",
            display: hasPercent,
            min: 0,
            max: 100,
            ticks: { stepSize: 20 },
            title: { display: true, text: "Disability (ODI / NDI %)" },
            grid: { drawOnChartArea: false },
          },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: { usePointStyle: true, boxHeight: 8, padding: 14 },
          },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? formats.full.format(new Date(items[0].parsed.x)) : "";
              },
              label: function (item) {
                if (item.dataset.key === "procedures") return item.raw.label;
                return item.dataset.label + ": " + item.formattedValue;
              },
            },
          },
        },
      },
    };
  }

  let started = false;

  function draw() {
    const canvas = document.getElementById("history-chart");
    const source = document.getElementById("history-chart-data");
    if (started || !canvas || !source) return;
    if (typeof window.Chart === "undefined") return; // the data table stays the view
    let data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    const Chart = window.Chart;
    const style = window.getComputedStyle(document.body);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = "#1b2430";
    started = true;
    const chart = new Chart(canvas, buildConfig(data || {}, canvas));

    if (window.matchMedia) {
      const motion = window.matchMedia("(prefers-reduced-motion: reduce)");
      if (motion.addEventListener) {
        motion.addEventListener("change", function () {
          chart.options.animation = motion.matches ? false : opening();
          chart.update("none");
        });
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  // If Chart.js was not there yet (a different script order), try once more at load.
  window.addEventListener("load", draw);
})();
