// Review desk: the evidence viewer (fit, zoom around the pointer, drag, pinch, rotate, keys,
// boxes of the values read), waiting for an analysis, canned replies into the message box.
(function () {
  "use strict";

  var STEP = 1.25;          // one button press or key of zoom
  var MAX_UPSCALE = 2;      // fit never blows a small picture up more than this
  var MIN_OF_FIT = 0.5;     // zooming out stops at half the fitted size
  var MAX_SCALE = 8;        // zooming in stops at 8 screen pixels per picture pixel (or 16x the fit)

  // CSS rotate(a) turns a point (x, y) clockwise on screen: y points down.
  function turn(point, angle) {
    switch (angle) {
      case 90: return [-point[1], point[0]];
      case 180: return [-point[0], -point[1]];
      case 270: return [point[1], -point[0]];
      default: return point;
    }
  }

  function Viewer(root) {
    var stage = root.querySelector(".viewer-stage");
    var content = root.querySelector(".viewer-content");
    var image = content.querySelector("img");
    var width = 0, height = 0, scale = 1, angle = 0, x = 0, y = 0, fitted = 1, atFit = true;
    var pointers = new Map(), pinch = null;
    var page = 1, pages = parseInt(stage.dataset.pages || "1", 10);

    // The picture's box on the stage (its padding box) for a given scale, angle and offset.
    function bounds() {
      var xs = [], ys = [];
      [[0, 0], [width, 0], [0, height], [width, height]].forEach(function (corner) {
        var p = turn(corner, angle);
        xs.push(p[0] * scale + x); ys.push(p[1] * scale + y);
      });
      return {left: Math.min.apply(null, xs), right: Math.max.apply(null, xs),
              top: Math.min.apply(null, ys), bottom: Math.max.apply(null, ys)};
    }

    // Never lost: smaller than the stage, it stays inside it; larger, it covers it, so every
    // edge (left and top included) can be dragged into view and no further.
    function keepInReach() {
      var b = bounds(), w = stage.clientWidth, h = stage.clientHeight;
      if (b.right - b.left <= w) {
        if (b.left < 0) x -= b.left; else if (b.right > w) x -= b.right - w;
      } else if (b.left > 0) x -= b.left; else if (b.right < w) x += w - b.right;
      if (b.bottom - b.top <= h) {
        if (b.top < 0) y -= b.top; else if (b.bottom > h) y -= b.bottom - h;
      } else if (b.top > 0) y -= b.top; else if (b.bottom < h) y += h - b.bottom;
    }

    function apply() {
      content.style.transform = "translate(" + x + "px, " + y + "px) rotate(" + angle + "deg) scale(" + scale + ")";
      content.style.setProperty("--s", scale);
      stage.dataset.scale = scale.toFixed(4);
      stage.dataset.angle = angle;
      stage.dataset.fit = atFit ? "1" : "0";
      // fitted, a vertical swipe scrolls the page past the viewer on a phone; zoomed, it pans the picture
      stage.style.touchAction = atFit ? "pan-y" : "none";
    }

    function fit() {
      if (!width) return;
      var sideways = angle % 180 !== 0;
      var w = sideways ? height : width, h = sideways ? width : height;
      scale = fitted = Math.min(stage.clientWidth / w, stage.clientHeight / h, MAX_UPSCALE);
      x = 0; y = 0;
      var b = bounds();
      x = (stage.clientWidth - (b.right - b.left)) / 2 - b.left;
      y = (stage.clientHeight - (b.bottom - b.top)) / 2 - b.top;
      atFit = true;
      apply();
    }

    function zoomAt(factor, px, py) {
      if (!width) return;
      var next = Math.min(Math.max(scale * factor, fitted * MIN_OF_FIT), Math.max(MAX_SCALE, fitted * 16));
      factor = next / scale;
      x = px - factor * (px - x);  // the picture's point under (px, py) stays there
      y = py - factor * (py - y);
      scale = next;
      atFit = false;
      keepInReach();
      apply();
    }

    function zoomAtCentre(factor) { zoomAt(factor, stage.clientWidth / 2, stage.clientHeight / 2); }

    function rotate() { angle = (angle + 90) % 360; fit(); }

    function onStage(event) {
      var rect = stage.getBoundingClientRect();
      return [event.clientX - rect.left - stage.clientLeft, event.clientY - rect.top - stage.clientTop];
    }

    function ready() {
      width = image.naturalWidth; height = image.naturalHeight;
      content.style.width = width + "px"; content.style.height = height + "px";
      fit();
      root.dataset.ready = "1";
    }

    function showPage(number) {
      if (number < 1 || number > pages || number === page) return;
      page = number;
      root.dataset.ready = "0";
      image.src = stage.dataset.pageUrl + page;
      var label = root.querySelector("[data-page-label]");
      if (label) label.textContent = label.dataset.template.replace("{page}", page);
    }

    // boxes in per cent of the picture (set here: the page's CSP allows no style attributes)
    content.querySelectorAll("[data-box]").forEach(function (box) {
      var edges = box.dataset.box.split(" ");
      box.style.left = edges[0] + "%"; box.style.top = edges[1] + "%";
      box.style.width = edges[2] + "%"; box.style.height = edges[3] + "%";
    });

    image.addEventListener("load", ready);
    if (image.complete && image.naturalWidth) ready();

    stage.addEventListener("wheel", function (event) {
      event.preventDefault();
      var point = onStage(event), unit = event.deltaMode === 1 ? 0.05 : 0.0015;
      zoomAt(Math.exp(-event.deltaY * unit), point[0], point[1]);
    }, {passive: false});

    stage.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      stage.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, onStage(event));
      pinch = pointers.size === 2 ? twoFingers() : null;
      stage.classList.add("dragging");
    });

    function twoFingers() {
      var points = Array.from(pointers.values());
      return {distance: Math.hypot(points[0][0] - points[1][0], points[0][1] - points[1][1]) || 1,
              middle: [(points[0][0] + points[1][0]) / 2, (points[0][1] + points[1][1]) / 2]};
    }

    stage.addEventListener("pointermove", function (event) {
      if (!pointers.has(event.pointerId)) return;
      var before = pointers.get(event.pointerId), now = onStage(event);
      pointers.set(event.pointerId, now);
      if (pointers.size === 1) {
        x += now[0] - before[0]; y += now[1] - before[1];
        atFit = false;
        keepInReach();
        apply();
      } else if (pointers.size === 2 && pinch) {
        var next = twoFingers();
        x += next.middle[0] - pinch.middle[0]; y += next.middle[1] - pinch.middle[1];
        zoomAt(next.distance / pinch.distance, next.middle[0], next.middle[1]);
        pinch = next;
      }
    });

    function lift(event) {
      pointers.delete(event.pointerId);
      pinch = pointers.size === 2 ? twoFingers() : null;
      if (!pointers.size) stage.classList.remove("dragging");
    }
    stage.addEventListener("pointerup", lift);
    stage.addEventListener("pointercancel", lift);

    root.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (!button) return;
      var action = button.dataset.action;
      if (action === "zoom-in") zoomAtCentre(STEP);
      else if (action === "zoom-out") zoomAtCentre(1 / STEP);
      else if (action === "fit") fit();
      else if (action === "rotate") rotate();
      else if (action === "page-previous") showPage(page - 1);
      else if (action === "page-next") showPage(page + 1);
    });

    window.addEventListener("resize", function () {
      if (atFit) fit(); else { keepInReach(); apply(); }
    });

    return {zoomIn: function () { zoomAtCentre(STEP); }, zoomOut: function () { zoomAtCentre(1 / STEP); },
            fit: fit, rotate: rotate};
  }

  var viewers = [];
  document.querySelectorAll("[data-viewer]").forEach(function (root) { viewers.push(Viewer(root)); });

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var viewer = viewers[0], link = null;
    if (event.key === "ArrowLeft") link = document.querySelector("[data-previous]");
    if (event.key === "ArrowRight") link = document.querySelector("[data-next]");
    if (link) { event.preventDefault(); window.location.href = link.href; return; }
    if (!viewer) return;
    var act = {"+": viewer.zoomIn, "=": viewer.zoomIn, "-": viewer.zoomOut, "_": viewer.zoomOut,
               "0": viewer.fit, "r": viewer.rotate, "R": viewer.rotate}[event.key];
    if (act) { event.preventDefault(); act(); }
  });

  // A value and its box light up together (hover or keyboard focus on either).
  function light(id, on) {
    document.querySelectorAll('[data-box-for="' + id + '"], [data-value-id="' + id + '"]').forEach(function (element) {
      element.classList.toggle("highlight", on);
    });
  }
  document.querySelectorAll("[data-value-id], [data-box-for]").forEach(function (element) {
    var id = element.dataset.valueId || element.dataset.boxFor;
    ["mouseenter", "focusin"].forEach(function (name) { element.addEventListener(name, function () { light(id, true); }); });
    ["mouseleave", "focusout"].forEach(function (name) { element.addEventListener(name, function () { light(id, false); }); });
  });

  // "analysing…": ask every few seconds until the worker is done, then show the result.
  document.querySelectorAll("[data-analysis-poll]").forEach(function (element) {
    var tries = 0;
    function ask() {
      if (++tries > 150) return;  // ten minutes; a reload asks again
      fetch(element.dataset.analysisPoll, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || answer.status === "pending") { window.setTimeout(ask, 4000); return; }
          if (element.hasAttribute("data-reload")) { window.location.reload(); return; }
          element.textContent = answer.label;
          element.className = element.className.replace("analysis-pending", "analysis-" + answer.status);
          element.removeAttribute("data-analysis-poll");
        })
        .catch(function () { window.setTimeout(ask, 4000); });
    }
    window.setTimeout(ask, 4000);
  });

  document.querySelectorAll("select[data-fills]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.selectedOptions[0], target = document.getElementById(select.dataset.fills);
      if (option && option.dataset.body && target) target.value = option.dataset.body;
    });
  });
})();
