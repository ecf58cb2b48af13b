// Portal results: a thumbnail that cannot be shown (its first page not read yet) becomes the
// plain placeholder the other results have, not a broken image.
(function () {
  "use strict";

  function placeholder(img) {
    var span = document.createElement("span");
    span.className = "thumb none";
    span.setAttribute("aria-hidden", "true");
    img.replaceWith(span);
  }

  document.querySelectorAll("img.thumb").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0 && img.src) placeholder(img);
    else img.addEventListener("error", function () { placeholder(img); });
  });
})();
