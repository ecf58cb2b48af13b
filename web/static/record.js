// Record pages: highlight the search words in the OCR text; open a page in a deep-zoom viewer
// (OpenSeadragon on the page's IIIF image service) with its recognised words laid over the
// image as selectable text; load the 3D viewer when the capture has a model (the slot stays
// hidden while its URL answers 404).
(function () {
  "use strict";

  var LETTER = /[\p{L}\p{N}]/u;

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
      while ((i = folded.indexOf(w, i)) !== -1) {
        // whole words only: "di" is not the "đị" of "định"
        if (!LETTER.test(folded.charAt(i - 1)) && !LETTER.test(folded.charAt(i + w.length))) {
          marks.push([i, i + w.length]);
        }
        i += w.length;
      }
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

  function wordLayer(viewer, url) {
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data) return;
      var add = function () {
        data.words.forEach(function (w) {
          var el = document.createElement("span");
          el.className = "ocr-word";
          var inner = document.createElement("span");
          inner.textContent = w[0] + " ";
          el.appendChild(inner);
          // a drag that starts on a word selects text; anywhere else it pans
          el.addEventListener("pointerdown", function (e) { e.stopPropagation(); });
          viewer.addOverlay(el, new OpenSeadragon.Rect(w[1], w[2], w[3], w[4]));
        });
        viewer.element.dataset.words = String(data.words.length);
      };
      if (viewer.world.getItemCount()) add(); else viewer.addOnceHandler("open", add);
    });
  }

  function toggleViewer(button) {
    var figure = button.closest(".page-image");
    var frame = figure.querySelector(".frame");
    var open = figure.querySelector(".viewer");
    if (open) {
      if (open.sohoaViewer) open.sohoaViewer.destroy();
      open.remove();
      figure.querySelector(".viewer-help").remove();
      frame.hidden = false;
      button.textContent = button.dataset.label;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    var box = document.createElement("div");
    box.className = "viewer";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", button.dataset.label);
    var help = document.createElement("p");
    help.className = "muted viewer-help";
    help.textContent = button.dataset.help;
    figure.insertBefore(box, frame);
    figure.insertBefore(help, frame);
    frame.hidden = true;
    var viewer = OpenSeadragon({
      element: box,
      tileSources: button.dataset.info,
      prefixUrl: "/static/vendor/openseadragon/images/",
      showNavigator: false,
      showRotationControl: false,
      gestureSettingsMouse: { clickToZoom: false },
    });
    viewer.addOnceHandler("open", function () { box.dataset.opened = "1"; });
    wordLayer(viewer, button.dataset.words);
    box.sohoaViewer = viewer;
    button.dataset.label = button.dataset.label || button.textContent;
    button.textContent = button.dataset.close;
    button.setAttribute("aria-expanded", "true");
    var canvas = box.querySelector(".openseadragon-canvas");
    if (canvas) canvas.setAttribute("aria-label", button.dataset.label);
  }

  // words on the image are positioned one by one (each its own block): copied, they would
  // come one a line; join them with spaces as they read
  document.addEventListener("copy", function (e) {
    var sel = window.getSelection();
    var node = sel && sel.anchorNode;
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    if (!el || !el.closest(".viewer")) return;
    e.clipboardData.setData("text/plain", String(sel).replace(/\s+/g, " ").trim());
    e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.zoom[data-info]").forEach(function (button) {
      button.dataset.label = button.textContent;
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", function () { toggleViewer(button); });
      var frame = button.closest(".page-image").querySelector(".frame a");
      if (frame && window.OpenSeadragon) {
        frame.addEventListener("click", function (e) { e.preventDefault(); toggleViewer(button); });
      }
    });
    var q = document.getElementById("query-data");
    var words = q ? fold(JSON.parse(q.textContent) || "").split(/\s+/).filter(function (w) { return w.length > 1; }) : [];
    if (words.length) document.querySelectorAll("pre.ocr").forEach(function (pre) { highlight(pre, words); });
    document.querySelectorAll(".model-slot[data-src]").forEach(loadViewer);
  });
})();
