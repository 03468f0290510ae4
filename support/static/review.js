// Review desk: zoom and rotate evidence in the browser; fill a canned reply into the message box.
(function () {
  "use strict";
  document.querySelectorAll("[data-viewer]").forEach(function (viewer) {
    var image = viewer.querySelector("img");
    var scale = 1, angle = 0;
    function apply() { image.style.transform = "scale(" + scale + ") rotate(" + angle + "deg)"; }
    viewer.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.zoom) scale = Math.min(8, Math.max(0.2, scale * parseFloat(button.dataset.zoom)));
      if (button.dataset.rotate) angle = (angle + parseInt(button.dataset.rotate, 10)) % 360;
      if (button.hasAttribute("data-reset")) { scale = 1; angle = 0; }
      image.dataset.scale = scale; image.dataset.angle = angle;
      apply();
    });
  });
  document.querySelectorAll("select[data-fills]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.selectedOptions[0], target = document.getElementById(select.dataset.fills);
      if (option && option.dataset.body && target) target.value = option.dataset.body;
    });
  });
})();
