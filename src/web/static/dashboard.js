// Draws the dashboard charts that src/web/charts.ts renders: each
// <figure class="chart"> holds a JSON data island and a table of the same
// numbers. Pages are complete without this script; it only adds the picture
// and folds the table into a <details> ("Show figures") below it.
(function () {
  "use strict";

  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  // A goal that is the same for every label is drawn as a dashed line across
  // the whole plot with its value written at the end, rather than as a dataset
  // that would stop at the middle of the first and last bars.
  var goalLine = {
    id: "coopolGoal",
    afterDatasetsDraw: function (chart, _args, options) {
      if (!options || options.value === undefined || options.value === null) return;
      var area = chart.chartArea;
      var scale = chart.scales[options.axis];
      var at = scale.getPixelForValue(options.value);
      var ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = options.color;
      ctx.fillStyle = options.color;
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      if (options.axis === "y") {
        ctx.moveTo(area.left, at);
        ctx.lineTo(area.right, at);
      } else {
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
      }
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = "600 12px system-ui, sans-serif";
      if (options.axis === "y") {
        ctx.textAlign = "right";
        ctx.textBaseline = "bottom";
        ctx.fillText(options.label, area.right - 4, at - 3);
      } else {
        ctx.textAlign = "left";
        ctx.textBaseline = "top";
        ctx.fillText(options.label, at + 4, area.top + 2);
      }
      ctx.restore();
    },
  };

  var POINT_STYLES = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "cross", "line"];

  function config(spec) {
    var format = new Intl.NumberFormat(spec.locale, spec.format);
    var valueAxis = spec.horizontal ? "x" : "y";
    var indexAxis = spec.horizontal ? "y" : "x";
    var withUnit = function (value) {
      return spec.unit ? format.format(value) + "\u00a0" + spec.unit : format.format(value);
    };

    var datasets = spec.series.map(function (s, i) {
      var d = { label: s.label, data: s.values, backgroundColor: s.color, borderColor: s.color };
      if (spec.type === "line") {
        // Point shapes and dashes differ too, so lines stay apart in grey.
        d.pointStyle = POINT_STYLES[i % POINT_STYLES.length];
        d.pointRadius = 4;
        d.borderWidth = 2;
        d.borderDash = i === 0 ? [] : [8 - (i % 4) * 2, 3];
        d.spanGaps = false;
      }
      return d;
    });

    var goal = spec.goal;
    if (goal && !goal.constant) {
      var bars = spec.type === "bar";
      datasets.push({
        type: "line",
        label: goal.label,
        data: goal.values,
        borderColor: goal.color,
        backgroundColor: goal.color,
        borderWidth: bars ? 3 : 2,
        borderDash: bars ? [] : [6, 4],
        // On bars, one short stroke across each bar; on lines, a dashed path.
        showLine: !bars,
        // "line" also gives the legend its symbol; on lines the points stay hidden.
        pointStyle: "line",
        pointRadius: bars ? 14 : 0,
        pointHoverRadius: bars ? 14 : 0,
        pointRotation: bars && spec.horizontal ? 90 : 0,
        stack: "goal",
        order: -1,
      });
    }

    var scales = {};
    scales[valueAxis] = {
      beginAtZero: true,
      stacked: spec.stacked,
      ticks: { callback: function (value) { return format.format(value); } },
      title: spec.unit ? { display: true, text: spec.unit } : { display: false },
    };
    scales[indexAxis] = { stacked: spec.stacked, ticks: { autoSkip: spec.horizontal ? false : true } };
    if (goal && goal.constant) {
      // Keep the goal inside the plot even when every value is far below it.
      scales[valueAxis].suggestedMax = goal.values[0];
    }

    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: indexAxis,
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 400 },
        locale: spec.locale,
        scales: scales,
        plugins: {
          legend: {
            display: datasets.length > 1,
            labels: {
              usePointStyle: spec.type === "line",
              // The goal is drawn last (order -1, on top); the legend keeps the series' order.
              sort: function (a, b) { return a.datasetIndex - b.datasetIndex; },
            },
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = spec.horizontal ? item.parsed.x : item.parsed.y;
                return fill(spec.text.tooltip, { series: item.dataset.label, value: withUnit(value) });
              },
            },
          },
          coopolGoal: goal && goal.constant
            ? { axis: valueAxis, value: goal.values[0], color: goal.color, label: fill(spec.text.goalValue, { value: withUnit(goal.values[0]) }) }
            : {},
        },
      },
      plugins: [goalLine],
    };
  }

  function draw(figure) {
    if (figure.getAttribute("data-drawn")) return;
    var island = figure.querySelector('script[type="application/json"]');
    if (!island) return;
    var spec;
    try {
      spec = JSON.parse(island.textContent);
    } catch (e) {
      return; // the table is still there
    }

    var box = document.createElement("div");
    box.className = "chart-box";
    if (spec.horizontal) {
      // Room for each label's bars, so long lists of sections stay legible.
      var perLabel = 12 + 14 * Math.max(1, spec.stacked ? 1 : spec.series.length);
      box.style.height = Math.max(160, spec.labels.length * perLabel + 70) + "px";
    }
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", spec.text.canvasLabel);
    box.appendChild(canvas);

    var figures = figure.querySelector(".chart-figures");
    var caption = figure.querySelector("figcaption");
    figure.insertBefore(box, caption ? caption.nextSibling : figure.firstChild);
    if (figures) {
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = spec.text.showFigures;
      details.appendChild(summary);
      while (figures.firstChild) details.appendChild(figures.firstChild);
      figures.appendChild(details);
    }

    try {
      new window.Chart(canvas, config(spec));
      figure.setAttribute("data-drawn", "true");
    } catch (e) {
      // Drawing failed: give the table back its place.
      box.remove();
      if (figures && figures.firstChild && figures.firstChild.tagName === "DETAILS") figures.firstChild.open = true;
    }
  }

  function start() {
    if (typeof window.Chart !== "function") return;
    var figures = document.querySelectorAll("figure.chart");
    for (var i = 0; i < figures.length; i++) draw(figures[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
