// Record pages: highlight the search words in the OCR text, and load the 3D viewer when the
// capture has a model (the slot stays hidden while its URL answers 404).
(function () {
  "use strict";

  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function highlight(pre, words) {
    var text = pre.textContent;
    // fold letter by letter so positions in `folded` are positions in `text`
    var folded = text.split("").map(function (c) { var f = fold(c); return f.length === 1 ? f : c; }).join("");
    var marks = [];
    words.forEach(function (w) {
      var i = 0;
      while ((i = folded.indexOf(w, i)) !== -1) { marks.push([i, i + w.length]); i += w.length; }
    });
    if (!marks.length) return;
    marks.sort(function (a, b) { return a[0] - b[0]; });
    var out = document.createDocumentFragment(), at = 0;
    marks.forEach(function (m) {
      if (m[0] < at) return;
      out.appendChild(document.createTextNode(text.slice(at, m[0])));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(m[0], m[1]);
      out.appendChild(mark);
      at = m[1];
    });
    out.appendChild(document.createTextNode(text.slice(at)));
    pre.textContent = "";
    pre.appendChild(out);
  }

  function loadViewer(slot) {
    var src = slot.dataset.src;
    fetch(src, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.blob() : null;
    }).then(function (blob) {
      if (!blob) return;
      if (!document.querySelector("script[data-model-viewer]")) {
        var s = document.createElement("script");
        s.type = "module";
        s.src = "/static/vendor/model-viewer/model-viewer.min.js";
        s.dataset.modelViewer = "1";
        document.head.appendChild(s);
      }
      var viewer = document.createElement("model-viewer");
      viewer.setAttribute("src", URL.createObjectURL(blob));
      viewer.dataset.source = src;
      if (slot.dataset.poster) viewer.setAttribute("poster", slot.dataset.poster);
      viewer.setAttribute("camera-controls", "");
      viewer.setAttribute("loading", "eager");
      viewer.setAttribute("alt", slot.querySelector("h3").textContent);
      slot.insertBefore(viewer, slot.querySelector("dl.metrics"));
      slot.hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var q = document.getElementById("query-data");
    var words = q ? fold(JSON.parse(q.textContent) || "").split(/\s+/).filter(function (w) { return w.length > 1; }) : [];
    if (words.length) document.querySelectorAll("pre.ocr").forEach(function (pre) { highlight(pre, words); });
    document.querySelectorAll(".model-slot[data-src]").forEach(loadViewer);
  });
})();
