// The staff image viewer: a stack of server-rendered PNG slices on a canvas.
// No inline script, no eval, nothing from another origin (the page's CSP).
// One request in flight at a time: scrolling or dragging faster than the
// server answers skips the slices in between and shows the latest wanted.
(function () {
  "use strict";

  var PRESETS = {
    t1: { center: 350, width: 700 },
    t2: { center: 600, width: 1200 },
    spine: { center: 400, width: 800 },
    bone: { center: 1000, width: 2500 }
  };

  function $(id) { return document.getElementById(id); }

  function init() {
    var root = $("imaging-viewer");
    if (!root) { return; }
    var viewport = $("imaging-viewport");
    var canvas = $("imaging-canvas");
    var ctx = canvas.getContext("2d");
    var slider = $("imaging-slider");
    var status = $("imaging-status");
    var errorBox = $("imaging-error");
    var preset = $("imaging-preset");
    var pageImg = $("imaging-page");
    var pagesBar = $("imaging-pages");

    var state = {
      manifest: null, index: 0, center: 0, width: 1, auto: false,
      zoom: 1, panX: 0, panY: 0, bitmap: null,
      loadedKey: "", inflight: false, file: null, page: 1
    };

    function tool() {
      var checked = document.querySelector("input[name='imaging-tool']:checked");
      return checked ? checked.value : "window";
    }

    function showError(text) {
      errorBox.textContent = text || "";
      errorBox.hidden = !text;
    }

    function resize() {
      var ratio = window.devicePixelRatio || 1;
      var w = Math.max(1, Math.round(viewport.clientWidth * ratio));
      var h = Math.max(1, Math.round(viewport.clientHeight * ratio));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      draw();
    }

    function draw() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      var bmp = state.bitmap;
      if (!bmp) { return; }
      var ratio = window.devicePixelRatio || 1;
      var fit = Math.min(canvas.width / bmp.width, canvas.height / bmp.height);
      var scale = fit * state.zoom;
      var dw = bmp.width * scale;
      var dh = bmp.height * scale;
      var x = (canvas.width - dw) / 2 + state.panX * ratio;
      var y = (canvas.height - dh) / 2 + state.panY * ratio;
      ctx.imageSmoothingEnabled = scale < 2;
      ctx.drawImage(bmp, x, y, dw, dh);
    }

    function wantedKey() {
      if (state.auto) { return state.index + "|auto"; }
      return state.index + "|" + Math.round(state.center) + "|" + Math.round(state.width);
    }

    function sliceUrl() {
      var base = state.manifest.slice_base + "/" + state.index + ".png";
      if (state.auto) { return base + "?auto=1"; }
      return base + "?wc=" + Math.round(state.center) + "&ww=" + Math.round(state.width);
    }

    function updateStatus() {
      var m = state.manifest;
      if (!m) { return; }
      var s = m.slices[state.index];
      var text = "Slice " + s.n + " / " + m.slices.length;
      if (s.position !== null && s.position !== undefined) {
        text += " · position " + s.position.toFixed(1) + " mm";
      }
      text += state.auto ? " · window: full range" :
        " · W " + Math.round(state.width) + " L " + Math.round(state.center);
      text += " · zoom " + Math.round(state.zoom * 100) + "%";
      status.textContent = text;
      viewport.dataset.index = String(state.index);
      slider.value = String(state.index + 1);
    }

    // Slices already drawn or fetched ahead, in this page's memory only (the
    // responses are no-store): scrolling back and forth costs no request.
    var bitmaps = new Map();
    var MAX_BITMAPS = 64;
    var direction = 1;

    function remember(key, bitmap) {
      if (bitmaps.has(key)) { bitmaps.delete(key); }
      bitmaps.set(key, bitmap);
      while (bitmaps.size > MAX_BITMAPS) {
        var oldest = bitmaps.keys().next().value;
        var old = bitmaps.get(oldest);
        bitmaps.delete(oldest);
        if (old !== state.bitmap && old.close) { old.close(); }
      }
    }

    function show(key, bitmap) {
      state.bitmap = bitmap;
      state.loadedKey = key;
      viewport.dataset.loaded = key;
      viewport.dataset.drawnAt = String(Math.round(performance.now()));
      showError("");
      draw();
    }

    function keyFor(index) {
      var saved = state.index;
      state.index = index;
      var key = wantedKey();
      var url = sliceUrl();
      state.index = saved;
      return { key: key, url: url };
    }

    function schedule() {
      if (!state.manifest || state.inflight) { return; }
      var key = wantedKey();
      if (key === state.loadedKey) { prefetch(); return; }
      if (bitmaps.has(key)) { show(key, bitmaps.get(key)); prefetch(); return; }
      state.inflight = true;
      var seriesAtStart = state.manifest.series;
      fetch(sliceUrl(), { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) { throw new Error(body.error || "error"); },
            function () { throw new Error("This slice could not be shown (" + response.status + ")."); });
        }
        return response.blob();
      }).then(function (blob) {
        return createImageBitmap(blob);
      }).then(function (bitmap) {
        state.inflight = false;
        if (!state.manifest || state.manifest.series !== seriesAtStart) { schedule(); return; }
        remember(key, bitmap);
        show(key, bitmap);
        schedule();
      }).catch(function (err) {
        state.inflight = false;
        state.loadedKey = key;
        showError(err.message);
      });
    }

    // While idle, fetch the next two slices in the direction of travel.
    function prefetch() {
      var m = state.manifest;
      if (!m || state.inflight) { return; }
      for (var step = 1; step <= 2; step++) {
        var index = state.index + direction * step;
        if (index < 0 || index >= m.slices.length) { return; }
        var next = keyFor(index);
        if (bitmaps.has(next.key)) { continue; }
        state.inflight = true;
        var seriesAtStart = m.series;
        fetch(next.url, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) { throw new Error("prefetch"); }
          return response.blob();
        }).then(function (blob) {
          return createImageBitmap(blob);
        }).then(function (bitmap) {
          state.inflight = false;
          if (state.manifest && state.manifest.series === seriesAtStart) { remember(next.key, bitmap); }
          schedule();
        }).catch(function () { state.inflight = false; });
        return;
      }
    }

    function go(index) {
      var m = state.manifest;
      if (!m) { return; }
      var n = Math.max(0, Math.min(m.slices.length - 1, index));
      if (n === state.index && state.loadedKey) { return; }
      direction = n < state.index ? -1 : 1;
      state.index = n;
      updateStatus();
      schedule();
    }

    function applyPreset(name) {
      var m = state.manifest;
      if (!m) { return; }
      state.auto = name === "full";
      if (name === "default" || name === "full") {
        state.center = m.window.center;
        state.width = m.window.width || 1;
      } else if (PRESETS[name]) {
        state.center = PRESETS[name].center;
        state.width = PRESETS[name].width;
      }
      updateStatus();
      schedule();
    }

    function resetView() {
      state.zoom = 1;
      state.panX = 0;
      state.panY = 0;
      updateStatus();
      draw();
    }

    function zoomBy(factor) {
      state.zoom = Math.max(0.25, Math.min(16, state.zoom * factor));
      updateStatus();
      draw();
    }

    function pressed(button) {
      document.querySelectorAll(".imaging-open-series, .imaging-open-file").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
    }

    function loadSeries(url) {
      showError("");
      state.file = null;
      pageImg.hidden = true;
      pagesBar.hidden = true;
      canvas.hidden = false;
      status.textContent = "Loading…";
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.error || "This series cannot be shown."); }
          return body;
        });
      }).then(function (m) {
        bitmaps.forEach(function (b) { if (b.close) { b.close(); } });
        bitmaps.clear();
        state.manifest = m;
        state.index = 0;
        state.loadedKey = "";
        state.bitmap = null;
        viewport.dataset.series = String(m.series);
        viewport.dataset.count = String(m.slices.length);
        slider.min = "1";
        slider.max = String(m.slices.length);
        slider.disabled = m.slices.length < 2;
        preset.value = "default";
        resetView();
        applyPreset("default");
      }).catch(function (err) {
        state.manifest = null;
        status.textContent = "";
        showError(err.message);
      });
    }

    function showPage() {
      pageImg.src = state.file.page_base + "/" + state.page + ".png";
      $("imaging-page-label").textContent = "Page " + state.page + " / " + state.file.pages;
    }

    function loadFile(url) {
      showError("");
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.error || "This file cannot be shown."); }
          return body;
        });
      }).then(function (f) {
        state.manifest = null;
        state.file = f;
        state.page = 1;
        canvas.hidden = true;
        pageImg.hidden = false;
        pagesBar.hidden = f.pages < 2;
        status.textContent = "";
        showPage();
      }).catch(function (err) { showError(err.message); });
    }

    // --- Controls ------------------------------------------------------------
    document.querySelectorAll(".imaging-open-series").forEach(function (button) {
      button.addEventListener("click", function () {
        pressed(button);
        loadSeries(button.dataset.manifest).then(function () { viewport.focus(); });
      });
    });
    document.querySelectorAll(".imaging-open-file").forEach(function (button) {
      button.addEventListener("click", function () { pressed(button); loadFile(button.dataset.manifest); });
    });
    $("imaging-page-prev").addEventListener("click", function () {
      if (state.file && state.page > 1) { state.page -= 1; showPage(); }
    });
    $("imaging-page-next").addEventListener("click", function () {
      if (state.file && state.page < state.file.pages) { state.page += 1; showPage(); }
    });
    slider.addEventListener("input", function () { go(parseInt(slider.value, 10) - 1); });
    preset.addEventListener("change", function () { applyPreset(preset.value); });
    $("imaging-zoom-in").addEventListener("click", function () { zoomBy(1.25); });
    $("imaging-zoom-out").addEventListener("click", function () { zoomBy(0.8); });
    $("imaging-reset").addEventListener("click", resetView);

    viewport.addEventListener("keydown", function (event) {
      var m = state.manifest;
      var handled = true;
      switch (event.key) {
        case "ArrowDown": case "ArrowRight": go(state.index + 1); break;
        case "ArrowUp": case "ArrowLeft": go(state.index - 1); break;
        case "PageDown": go(state.index + 10); break;
        case "PageUp": go(state.index - 10); break;
        case "Home": go(0); break;
        case "End": go(m ? m.slices.length - 1 : 0); break;
        case "+": case "=": zoomBy(1.25); break;
        case "-": zoomBy(0.8); break;
        case "0": resetView(); break;
        default: handled = false;
      }
      if (handled) { event.preventDefault(); }
    });

    viewport.addEventListener("wheel", function (event) {
      if (!state.manifest) { return; }
      event.preventDefault();
      if (event.ctrlKey) {
        zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
      } else if (event.deltaY) {
        go(state.index + (event.deltaY > 0 ? 1 : -1));
      }
    }, { passive: false });

    var drag = null;
    viewport.addEventListener("pointerdown", function (event) {
      if (!state.manifest) { return; }
      viewport.focus();
      viewport.setPointerCapture(event.pointerId);
      var panning = tool() === "pan" || event.button === 1 || event.shiftKey;
      drag = { x: event.clientX, y: event.clientY, pan: panning };
    });
    viewport.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x;
      var dy = event.clientY - drag.y;
      drag.x = event.clientX;
      drag.y = event.clientY;
      if (drag.pan) {
        state.panX += dx;
        state.panY += dy;
        draw();
        return;
      }
      // Right: wider window; down: brighter level. Steps grow with the window.
      var step = Math.max(1, state.width / 256);
      state.auto = false;
      state.width = Math.max(1, state.width + dx * step);
      state.center = state.center - dy * step;
      preset.value = "default";
      updateStatus();
      schedule();
    });
    function endDrag() { drag = null; }
    viewport.addEventListener("pointerup", endDrag);
    viewport.addEventListener("pointercancel", endDrag);

    window.addEventListener("resize", resize);
    resize();
    if (root.dataset.initial) {
      var first = document.querySelector(".imaging-open-series");
      if (first) { pressed(first); }
      loadSeries(root.dataset.initial);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
