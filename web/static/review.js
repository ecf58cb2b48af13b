// The certificate review page (review_certificate.html): keys for working through a
// certificate without the mouse. Enter in a box submits its form (accept or correct, the
// server decides); ↑/↓ move between the boxes; Esc puts back the value the machine read;
// Alt+B leaves the fields not read blank; Alt+L joins the parcel of the neighbouring photo of
// the same certificate; Alt+N opens the next certificate.
(function () {
  "use strict";

  var boxes = Array.prototype.slice.call(document.querySelectorAll("ol.review input[name=value]"));

  function move(from, step) {
    var i = boxes.indexOf(from) + step;
    if (i >= 0 && i < boxes.length) {
      boxes[i].focus();
      boxes[i].select();
    }
  }

  boxes.forEach(function (box) {
    box.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); move(box, 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(box, -1); }
      else if (e.key === "Escape") { box.value = box.getAttribute("data-read") || ""; box.select(); }
    });
  });

  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    var key = e.key.toLowerCase();
    if (key === "n") {
      var next = document.getElementById("next");
      if (next) { e.preventDefault(); window.location.assign(next.href); }
    } else if (key === "b" || key === "l") {
      var form = document.getElementById(key === "b" ? "blank" : "join");
      if (form) { e.preventDefault(); form.requestSubmit(); }
    }
  });

  var focused = document.activeElement;
  if (focused && boxes.indexOf(focused) >= 0) {
    focused.select();
    focused.closest("li").scrollIntoView({ block: "center" });
  }
})();
