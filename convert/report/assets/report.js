// The yoloarchive report page: builds every section from the JSON in
// #report-data. No network: the data, uPlot and the images are inline.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  // NaN and infinite values come as the strings "NaN", "Infinity", "-Infinity".
  D.runs.forEach(function (r) {
    (r.values || []).forEach(function (v) {
      if (typeof v.final === "string") v.final = Number(v.final);
      if (typeof v.best === "string") v.best = Number(v.best);
    });
  });
  var SVG = "http" + "://www.w3.org/2000/svg"; // a namespace name, never fetched
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function color(i) {
    if (i < PALETTE.length) return PALETTE[i];
    return "hsl(" + ((i * 137.5) % 360).toFixed(0) + ",65%,45%)";
  }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function fmt(v) {
    if (v == null || Number.isNaN(v)) return "NaN";
    if (v === 0) return "0";
    if (!isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
    var a = Math.abs(v);
    return (a >= 1e-3 && a < 1e6) ? String(+v.toPrecision(6)) : v.toExponential(4);
  }
  function swatch(i) { var s = el("span", { "class": "swatch" }); s.style.background = color(i); return s; }

  // Header.
  document.getElementById("meta").textContent = D.runs.length + (D.runs.length === 1 ? " run" : " runs") +
    ", generated " + D.generated + (D.version ? " by yoloarchive " + D.version : "") +
    (D.notes && D.notes.length ? ". " + D.notes.join("; ") : "");

  // Runs.
  (function () {
    var t = el("table", { id: "runs-tbl" });
    t.appendChild(el("tr", {}, ["run", "status", "task", "epochs", "best epoch", "version", "dataset", "archive", "gaps"].map(function (h) { return el("th", { text: h }); })));
    D.runs.forEach(function (r, i) {
      var ep = r.epochs + (r.epochs_planned != null ? " / " + r.epochs_planned : "");
      var gaps = el("details", {}, [el("summary", { text: r.gaps.length + (r.gaps.length === 1 ? " gap" : " gaps") })]);
      r.gaps.forEach(function (g) {
        gaps.appendChild(el("div", { "class": "gap" }, [el("b", { text: g.item }), (g.affects ? " [" + g.affects.join(", ") + "]" : "") + ": " + g.reason,
          g.hint ? el("p", { "class": "hint", text: "to recover: " + g.hint }) : null]));
      });
      var archive = r.archive + (r.links ? " (chain of " + r.links + " links)" : "");
      t.appendChild(el("tr", { "data-run": i }, [
        el("td", {}, [swatch(i), r.label]), el("td", { text: r.status }), el("td", { text: r.task + (r.mode ? " " + r.mode : "") }),
        el("td", { "class": "num", text: ep }), el("td", { "class": "num", text: r.best_epoch != null ? r.best_epoch : "-" }),
        el("td", { text: r.version }), el("td", { text: r.dataset + (r.dataset && !r.dataset_found ? " (not found when captured)" : "") }),
        el("td", { text: archive }), el("td", {}, [gaps])]));
    });
    document.getElementById("runs-table").appendChild(t);
  })();

  // Curves: one uPlot chart per ticked metric, every run overlaid.
  (function () {
    var picker = document.getElementById("metric-picker");
    var charts = document.getElementById("charts");
    var shown = {};
    var defaults = D.metrics.filter(function (m) { return /mAP50-95\(B\)|mAP_0\.5:0\.95|^val\/box_loss$|^train\/box_loss$/.test(m); });
    if (!defaults.length) defaults = D.metrics.slice(0, 2);
    function draw(metric) {
      var runs = [], data = [];
      D.runs.forEach(function (r, i) { if (r.series[metric]) { runs.push(i); data.push(r.series[metric]); } });
      var joined = uPlot.join(data);
      var box = el("div", { "class": "chart", "data-metric": metric }, [el("h3", { text: metric })]);
      var opts = {
        width: 460, height: 260,
        scales: { x: { time: false } },
        axes: [{ label: "epoch", incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000] }, { size: 60 }],
        series: [{ label: "epoch" }].concat(runs.map(function (i) {
          return { label: D.runs[i].label, stroke: color(i), width: 1.5, spanGaps: false, points: { show: joined[0].length < 40 } };
        })),
      };
      charts.appendChild(box);
      shown[metric] = { box: box, plot: new uPlot(opts, joined, box) };
    }
    D.metrics.forEach(function (m) {
      var cb = el("input", { type: "checkbox", "data-metric": m });
      cb.checked = defaults.indexOf(m) >= 0;
      cb.addEventListener("change", function () {
        if (cb.checked) draw(m);
        else if (shown[m]) { shown[m].plot.destroy(); shown[m].box.remove(); delete shown[m]; }
      });
      picker.appendChild(el("label", { title: m }, [cb, " " + m]));
    });
    defaults.forEach(draw);
  })();

  // Best values: one row per run and metric, sortable.
  (function () {
    var rows = [];
    D.runs.forEach(function (r, i) {
      (r.values || []).forEach(function (v) { rows.push({ run: i, v: v }); });
    });
    // The best run of each metric, when it beats another.
    var winner = {};
    D.metrics.forEach(function (m) {
      var best = null, ranked = 0, wins = 0;
      rows.forEach(function (x) {
        if (x.v.metric !== m || x.v.best == null) return;
        ranked++;
        if (best == null || (x.v.goal === "max" ? x.v.best > best : x.v.best < best)) best = x.v.best;
      });
      rows.forEach(function (x) { if (x.v.metric === m && x.v.best === best) wins++; });
      if (best != null && wins < ranked) winner[m] = best;
    });
    var cols = [
      { h: "metric", key: function (x) { return x.v.metric; } },
      { h: "run", key: function (x) { return x.run; } },
      { h: "goal", key: function (x) { return x.v.goal || ""; } },
      { h: "best", num: true, key: function (x) { return x.v.best; } },
      { h: "best epoch", num: true, key: function (x) { return x.v.best_epoch; } },
      { h: "final", num: true, key: function (x) { return x.v.final; } },
      { h: "final epoch", num: true, key: function (x) { return x.v.final_epoch; } },
    ];
    var t = el("table", { id: "best-tbl" });
    var head = el("tr");
    var tbody = el("tbody");
    var sortBy = 0, dir = 1;
    function render() {
      var sorted = rows.slice().sort(function (a, b) {
        var ka = cols[sortBy].key(a), kb = cols[sortBy].key(b);
        var na = ka == null || Number.isNaN(ka), nb = kb == null || Number.isNaN(kb);
        if (na && nb) return a.run - b.run;
        if (na) return 1; if (nb) return -1; // missing and NaN last
        var c = ka < kb ? -1 : ka > kb ? 1 : 0;
        return c * dir || (a.run - b.run);
      });
      tbody.textContent = "";
      sorted.forEach(function (x) {
        var v = x.v;
        var tr = el("tr", { "data-run": x.run, "data-metric": v.metric });
        var bestTd = el("td", { "class": "num best", text: v.best != null ? fmt(v.best) : "-" });
        if (v.best != null) { bestTd.setAttribute("data-value", String(v.best)); if (winner[v.metric] === v.best) bestTd.className += " winner"; }
        var finalTd = el("td", { "class": "num final", text: fmt(v.final) });
        finalTd.setAttribute("data-value", String(v.final));
        [el("td", { text: v.metric, title: v.original ? "in the archive: " + v.original : "" }), el("td", {}, [swatch(x.run), D.runs[x.run].label]),
          el("td", { text: v.goal || "" }), bestTd, el("td", { "class": "num best-epoch", text: v.best_epoch != null ? v.best_epoch : "-" }),
          finalTd, el("td", { "class": "num final-epoch", text: v.final_epoch })].forEach(function (c) { tr.appendChild(c); });
        tbody.appendChild(tr);
      });
      Array.prototype.forEach.call(head.children, function (th, i) {
        th.className = "sortable" + (i === sortBy ? (dir > 0 ? " asc" : " desc") : "");
      });
    }
    cols.forEach(function (c, i) {
      var th = el("th", { text: c.h, "class": "sortable" });
      th.addEventListener("click", function () { if (sortBy === i) dir = -dir; else { sortBy = i; dir = 1; } render(); });
      head.appendChild(th);
    });
    t.appendChild(el("thead", {}, [head]));
    t.appendChild(tbody);
    render();
    document.getElementById("best-table").appendChild(t);
  })();

  // Parameters that differ.
  (function () {
    var box = document.getElementById("params-table");
    if (!D.params.length) { box.appendChild(el("p", { text: "Every run has the same parameters." })); return; }
    if (D.runs.length > 1) box.appendChild(el("p", { "class": "hint", text: D.params.length + " parameters differ; the others are the same in every run." }));
    var t = el("table", { id: "params-tbl" });
    t.appendChild(el("tr", {}, [el("th", { text: "parameter" })].concat(D.runs.map(function (r, i) { return el("th", {}, [swatch(i), r.label]); }))));
    D.params.forEach(function (p) {
      t.appendChild(el("tr", { "data-key": p.key }, [el("td", { text: p.key })].concat(p.values.map(function (v) { return el("td", { text: v == null ? "-" : v }); }))));
    });
    box.appendChild(t);
  })();

  // Lightbox: the full-size image, with the overlay when it has one.
  var lb = document.getElementById("lightbox");
  var lbInner = document.getElementById("lightbox-inner");
  lb.addEventListener("click", function () { lb.hidden = true; lbInner.textContent = ""; });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { lb.hidden = true; lbInner.textContent = ""; } });
  function open(img, overlay) {
    lbInner.textContent = "";
    // Without a full view (report --full-px 0) the thumbnail, enlarged.
    var big = el("img", { src: img.full || img.thumb, alt: img.file });
    if (!img.full) { big.style.width = Math.min(window.innerWidth * 0.9, img.w * 4) + "px"; }
    lbInner.appendChild(big);
    if (overlay) { var o = overlay.cloneNode(true); o.style.position = "absolute"; o.style.left = "0"; o.style.top = "0"; o.style.width = "100%"; o.style.height = "100%"; lbInner.appendChild(o); }
    document.getElementById("lightbox-caption").textContent = img.file + " (" + img.w + "\u00d7" + img.h + ")";
    lb.hidden = false;
  }
  function figure(img, overlay) {
    var frame = el("div", { "class": "frame" }, [el("img", { src: img.thumb, alt: img.file, width: img.tw, height: img.th })]);
    if (overlay) frame.appendChild(overlay);
    frame.addEventListener("click", function () { open(img, overlay); });
    return el("figure", { "data-file": img.file, "data-role": img.role }, [frame, el("figcaption", { text: img.file })]);
  }
  function thumbSize(img) {
    // Shown at the thumbnail size, small images scaled up (at most 3x).
    var long = Math.max(img.w, img.h) || 1, s = Math.min(3, (D.thumb_px || 240) / long);
    img.tw = Math.max(1, Math.round(img.w * s)); img.th = Math.max(1, Math.round(img.h * s));
  }

  // Plots.
  (function () {
    var box = document.getElementById("plots-list");
    D.runs.forEach(function (r, i) {
      box.appendChild(el("h3", {}, [swatch(i), r.label]));
      if (!r.plots.length) { box.appendChild(el("p", { "class": "hint", text: "No plots stored." })); return; }
      var list = el("div", { "class": "thumbs" });
      r.plots.forEach(function (p) { thumbSize(p); list.appendChild(figure(p, null)); });
      box.appendChild(list);
    });
  })();

  // Gallery: annotations drawn in SVG over each image, in original-image
  // pixels. Only the shapes that pass the layer toggles and the score
  // threshold are in the DOM: each figure's data-drawn counts them, and
  // window.yoloarchiveReport.drawn() their total.
  var overlays = [];
  function shape(a) {
    var g = document.createElementNS(SVG, "g");
    g.setAttribute("class", "ann " + a.l);
    var title = document.createElementNS(SVG, "title");
    title.textContent = a.c + (a.s != null ? " " + a.s.toFixed(3) : "");
    g.appendChild(title);
    function poly(pts) {
      var p = document.createElementNS(SVG, "polygon");
      var s = [];
      for (var i = 0; i + 1 < pts.length; i += 2) s.push(pts[i] + "," + pts[i + 1]);
      p.setAttribute("points", s.join(" "));
      g.appendChild(p);
    }
    if (a.r) {
      var cx = a.r[0], cy = a.r[1], w = a.r[2] / 2, h = a.r[3] / 2, c = Math.cos(a.r[4]), s = Math.sin(a.r[4]), pts = [];
      [[-w, -h], [w, -h], [w, h], [-w, h]].forEach(function (d) { pts.push(cx + d[0] * c - d[1] * s, cy + d[0] * s + d[1] * c); });
      poly(pts);
    } else if (a.p && a.p.length) {
      a.p.forEach(poly);
    } else if (a.b) {
      var rc = document.createElementNS(SVG, "rect");
      rc.setAttribute("x", a.b[0]); rc.setAttribute("y", a.b[1]); rc.setAttribute("width", a.b[2]); rc.setAttribute("height", a.b[3]);
      g.appendChild(rc);
    }
    if (a.k) {
      for (var i = 0; i + 2 < a.k.length; i += 3) {
        if (a.k[i + 2] === 0) continue; // not labelled
        var pt = document.createElementNS(SVG, "circle");
        pt.setAttribute("cx", a.k[i]); pt.setAttribute("cy", a.k[i + 1]); pt.setAttribute("r", 3);
        pt.setAttribute("vector-effect", "non-scaling-stroke");
        g.appendChild(pt);
      }
    }
    return g;
  }
  var state = { g: true, p: true, threshold: 0 };
  function visible(a) {
    if (!state[a.l]) return false;
    return a.l !== "p" || a.s == null || a.s >= state.threshold;
  }
  function redraw() {
    var total = 0;
    overlays.forEach(function (o) {
      o.svg.textContent = "";
      var n = 0;
      o.anns.forEach(function (a) { if (visible(a)) { o.svg.appendChild(shape(a)); n++; } });
      o.fig.setAttribute("data-drawn", n);
      total += n;
    });
    document.getElementById("drawn-total").textContent = total + " shapes drawn";
    return total;
  }
  (function () {
    var box = document.getElementById("gallery-list");
    D.runs.forEach(function (r, i) {
      box.appendChild(el("h3", {}, [swatch(i), r.label]));
      if (!r.gallery.length) { box.appendChild(el("p", { "class": "hint", text: "No validation or prediction images stored." })); return; }
      if (r.more_images) box.appendChild(el("p", { "class": "hint", text: r.more_images + " more dataset images are in the archive (report --images N shows more)." }));
      var list = el("div", { "class": "thumbs" });
      r.gallery.forEach(function (img) {
        thumbSize(img);
        var svg = null;
        if (img.role === "dataset_image") {
          svg = document.createElementNS(SVG, "svg");
          svg.setAttribute("class", "overlay");
          svg.setAttribute("viewBox", "0 0 " + img.w + " " + img.h);
          svg.setAttribute("preserveAspectRatio", "none");
        }
        var fig = figure(img, svg);
        fig.setAttribute("data-run", i);
        if (svg) {
          fig.setAttribute("data-annotations", (img.anns || []).length);
          overlays.push({ fig: fig, svg: svg, anns: img.anns || [] });
        }
        list.appendChild(fig);
      });
      box.appendChild(list);
    });
    document.getElementById("layer-g").addEventListener("change", function (e) { state.g = e.target.checked; redraw(); });
    document.getElementById("layer-p").addEventListener("change", function (e) { state.p = e.target.checked; redraw(); });
    var th = document.getElementById("threshold");
    th.addEventListener("input", function () {
      state.threshold = parseFloat(th.value);
      document.getElementById("threshold-value").textContent = state.threshold.toFixed(3);
      redraw();
    });
    redraw();
  })();

  window.yoloarchiveReport = {
    drawn: function () {
      var n = 0;
      overlays.forEach(function (o) { n += o.svg.querySelectorAll("g.ann").length; });
      return n;
    },
  };
})();
