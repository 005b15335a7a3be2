// The staff image viewer: a stack of server-rendered PNG slices on a canvas.
// No inline script, no eval, nothing from another origin (the page's CSP).
// Slices are fetched ahead into the page's memory (see "Slices held by the
// page"); one request for the slice wanted at a time: scrolling or dragging
// faster than the server answers skips the slices in between.
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
      loadedKey: "", file: null, page: 1, switching: false, errorKey: null,
      shownSeries: null, bitmapOrphan: false
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

    function windowKey() {
      if (state.auto) { return "auto"; }
      return Math.round(state.center) + "|" + Math.round(state.width);
    }

    function wantedKey() { return state.index + "|" + windowKey(); }

    function urlFor(index) {
      var base = state.manifest.slice_base + "/" + index + ".png";
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

    // --- Slices held by the page ----------------------------------------------
    // The responses are `private, no-store`, so the HTTP cache keeps nothing.
    // The page keeps what it fetched instead, in memory only, keyed by
    // (series, slice, window): each PNG as a Blob (least recently used first
    // out, at most MAX_SLICES and MAX_BYTES), and a few decoded ImageBitmaps
    // near the slice shown (closed when dropped). After the first slice is
    // shown, up to MAX_INFLIGHT requests fetch the AHEAD slices in the
    // direction of travel, BEHIND the other way, then the rest of the series
    // nearest first while there is room: scrolling is then a canvas draw.
    // A new window (or series) drops the set. Prefetching asks the same slice
    // URLs as scrolling: the series' one audit entry was written by its manifest.
    var MAX_SLICES = 300;
    var MAX_BYTES = 192 * 1024 * 1024;
    var MAX_BITMAPS = 24;
    var MAX_INFLIGHT = 2;
    var AHEAD = 8;
    var BEHIND = 2;
    var DECODE_AHEAD = 3;
    var slices = new Map();    // key -> {index, blob, bytes, bitmap, prefetched}; Map order = LRU
    var bitmapKeys = new Map(); // keys of entries holding a bitmap, LRU order
    var requests = new Map();   // key -> {index, win, wanted, controller}
    var failed = new Set();     // prefetches that failed for this window: not asked again
    var cacheBytes = 0;
    var cacheWindow = "";
    var direction = 1;
    var decodingAhead = false;
    var idleWaiters = [];

    function keyFor(index) { return state.manifest.series + "|" + index + "|" + windowKey(); }

    // A bitmap still on the canvas is closed when the next one replaces it.
    function release(bitmap) {
      if (!bitmap) { return; }
      if (bitmap === state.bitmap) { state.bitmapOrphan = true; } else if (bitmap.close) { bitmap.close(); }
    }

    function evict(key) {
      var e = slices.get(key);
      if (!e) { return; }
      slices.delete(key);
      bitmapKeys.delete(key);
      cacheBytes -= e.bytes;
      release(e.bitmap);
      e.bitmap = null;
      e.blob = null;
    }

    function dropAll() {
      Array.from(slices.keys()).forEach(evict);
      failed.clear();
      viewport.dataset.prefetched = "0";
    }

    function store(key, index, blob, prefetched) {
      evict(key);
      var e = { index: index, blob: blob, bytes: blob.size, bitmap: null, prefetched: prefetched };
      slices.set(key, e);
      cacheBytes += e.bytes;
      while (slices.size > MAX_SLICES || cacheBytes > MAX_BYTES) { evict(slices.keys().next().value); }
      viewport.dataset.prefetched = String(slices.size);
      return e;
    }

    function touch(key) {
      var e = slices.get(key);
      if (e) { slices.delete(key); slices.set(key, e); }
      return e;
    }

    function keepBitmap(key, e, bitmap) {
      e.bitmap = bitmap;
      bitmapKeys.delete(key);
      bitmapKeys.set(key, true);
      while (bitmapKeys.size > MAX_BITMAPS) {
        var oldest = bitmapKeys.keys().next().value;
        bitmapKeys.delete(oldest);
        var old = slices.get(oldest);
        if (old && old.bitmap) { release(old.bitmap); old.bitmap = null; }
      }
    }

    function show(key, bitmap, source) {
      if (state.bitmap && state.bitmapOrphan && state.bitmap !== bitmap && state.bitmap.close) {
        state.bitmap.close();
      }
      state.bitmapOrphan = false;
      state.bitmap = bitmap;
      state.loadedKey = key;
      state.shownSeries = state.manifest ? state.manifest.series : null;
      viewport.dataset.source = source;
      viewport.dataset.drawnAt = String(Math.round(performance.now()));
      showError("");
      draw();
      viewport.dataset.loaded = key;
    }

    function whenIdle() {
      if (!requests.size) { return Promise.resolve(); }
      return new Promise(function (resolve) { idleWaiters.push(resolve); });
    }

    function finished(key, req) {
      if (requests.get(key) === req) { requests.delete(key); }
      if (!requests.size) {
        var waiters = idleWaiters;
        idleWaiters = [];
        waiters.forEach(function (resolve) { resolve(); });
      }
    }

    function request(index, wanted) {
      var key = keyFor(index);
      var controller = window.AbortController ? new AbortController() : null;
      var req = { index: index, win: cacheWindow, wanted: wanted, controller: controller };
      requests.set(key, req);
      var options = { credentials: "same-origin" };
      if (controller) { options.signal = controller.signal; }
      fetch(urlFor(index), options).then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) { throw new Error(body.error || "error"); },
            function () { throw new Error("This slice could not be shown (" + response.status + ")."); });
        }
        return response.blob();
      }).then(function (blob) {
        finished(key, req);
        if (state.switching) { return; }
        if (req.win === cacheWindow) {
          var e = store(key, index, blob, !req.wanted);
          if (req.wanted && keyFor(state.index) !== key && !slices.has(keyFor(state.index)) && slices.get(key) === e) {
            showEntry(key, e, index + "|" + windowKey());  // progress while the slice wanted now comes
            return;
          }
        } else if (req.wanted && state.manifest && state.loadedKey !== wantedKey()) {
          // A window dragged on: show the last answer meanwhile, without keeping it.
          return createImageBitmap(blob).then(function (bitmap) {
            if (state.switching || !state.manifest || state.loadedKey === wantedKey()) { bitmap.close(); pump(); return; }
            show(index + "|" + req.win.split("|").slice(1).join("|"), bitmap, "network");
            state.bitmapOrphan = true;
            pump();
          });
        }
        pump();
      }).catch(function (err) {
        finished(key, req);
        if (err && err.name === "AbortError") { pump(); return; }
        if (req.win === cacheWindow) { failed.add(key); }
        if (req.wanted && !state.switching && state.manifest && keyFor(state.index) === key) {
          state.errorKey = key;
          showError(err.message);
        }
        pump();
      });
    }

    function wantedInflight() {
      var found = false;
      requests.forEach(function (req) { if (req.wanted) { found = true; } });
      return found;
    }

    function near(index) {
      var d = (index - state.index) * direction;
      return d <= AHEAD && d >= -BEHIND;
    }

    // Room for the slice wanted now: stop prefetches of an old window or far away.
    function makeRoom(staleOnly) {
      requests.forEach(function (req) {
        if (!req.wanted && req.controller && (req.win !== cacheWindow || (!staleOnly && !near(req.index)))) {
          req.controller.abort();
        }
      });
    }

    var decoding = new Set();

    function showEntry(key, e, display) {
      var source = e.prefetched ? "memory" : "network";
      if (e.bitmap) {
        bitmapKeys.delete(key);
        bitmapKeys.set(key, true);
        show(display, e.bitmap, source);
        return;
      }
      if (decoding.has(key)) { return; }
      decoding.add(key);
      createImageBitmap(e.blob).then(function (bitmap) {
        decoding.delete(key);
        if (slices.get(key) !== e || e.bitmap) { bitmap.close(); } else { keepBitmap(key, e, bitmap); }
        // A slice that came while a later one is wanted is shown meanwhile.
        if (e.bitmap && display !== wantedKey() && state.loadedKey !== wantedKey() && !state.switching &&
            state.manifest && !slices.has(keyFor(state.index))) {
          show(display, e.bitmap, source);
        }
        pump();
      }, function () {
        decoding.delete(key);
        evict(key);
        failed.add(key);
        if (state.manifest && keyFor(state.index) === key) {
          state.errorKey = key;
          showError("This slice could not be shown.");
        }
        pump();
      });
    }

    function aheadOne(key, e) {
      decodingAhead = true;
      decoding.add(key);
      createImageBitmap(e.blob).then(function (bitmap) {
        decodingAhead = false;
        decoding.delete(key);
        if (slices.get(key) !== e || e.bitmap) { bitmap.close(); } else { keepBitmap(key, e, bitmap); }
        pump();
      }, function () { decodingAhead = false; decoding.delete(key); });
    }

    // Decode the next few prefetched slices ahead of the scroll, one at a time.
    function decodeAhead() {
      if (decodingAhead) { return; }
      var n = state.manifest.slices.length;
      for (var d = 1; d <= DECODE_AHEAD; d++) {
        var index = state.index + direction * d;
        if (index < 0 || index >= n) { return; }
        var key = keyFor(index);
        var e = slices.get(key);
        if (!e || e.bitmap || decoding.has(key)) { continue; }
        aheadOne(key, e);
        return;
      }
    }

    function nextToFetch() {
      var n = state.manifest.slices.length;
      var i = state.index;
      function fetchable(index) {
        if (index < 0 || index >= n) { return false; }
        var key = keyFor(index);
        return !slices.has(key) && !requests.has(key) && !failed.has(key);
      }
      var d;
      for (d = 1; d <= AHEAD; d++) { if (fetchable(i + direction * d)) { return i + direction * d; } }
      for (d = 1; d <= BEHIND; d++) { if (fetchable(i - direction * d)) { return i - direction * d; } }
      // The rest of the series only while there is room: it never pushes out what was seen.
      if (slices.size + requests.size >= MAX_SLICES || cacheBytes >= MAX_BYTES * 0.9) { return null; }
      for (d = 1; d < n; d++) {
        if (fetchable(i + direction * d)) { return i + direction * d; }
        if (fetchable(i - direction * d)) { return i - direction * d; }
      }
      return null;
    }

    function pump() {
      var m = state.manifest;
      if (!m || state.switching) { return; }
      var win = m.series + "|" + windowKey();
      if (win !== cacheWindow) {
        cacheWindow = win;
        dropAll();
        makeRoom(true);
      }
      var key = keyFor(state.index);
      if (wantedKey() !== state.loadedKey) {
        var e = touch(key);
        if (e) {
          showEntry(key, e, wantedKey());
        } else if (requests.has(key)) {
          requests.get(key).wanted = true;
        } else if (state.errorKey !== key && !wantedInflight()) {
          // One wanted request at a time: scrolling or dragging faster than the
          // server answers skips what is in between and shows the latest wanted.
          if (requests.size >= MAX_INFLIGHT) { makeRoom(false); }
          if (requests.size < MAX_INFLIGHT) { request(state.index, true); }
        }
      }
      if (state.shownSeries !== m.series) { return; }  // the first slice first
      decodeAhead();
      while (requests.size < MAX_INFLIGHT) {
        var next = nextToFetch();
        if (next === null) { break; }
        request(next, false);
      }
    }

    function schedule() {
      if (keyFor(state.index) !== state.errorKey) { state.errorKey = null; }
      pump();
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
      sizePage();
      draw();
    }

    function zoomBy(factor) {
      state.zoom = Math.max(0.25, Math.min(16, state.zoom * factor));
      updateStatus();
      sizePage();
      draw();
    }

    // A report page is shown at the viewport's width (readable text) times the
    // zoom, and scrolls inside the viewport: never below it, never cut off.
    function sizePage() {
      if (!state.file) { return; }
      pageImg.style.width = Math.round(state.zoom * 100) + "%";
      pageStatus();
    }

    function pageStatus() {
      var label = "Page " + state.page + " / " + state.file.pages;
      $("imaging-page-label").textContent = label;
      status.textContent = label + " · zoom " + Math.round(state.zoom * 100) + "%";
    }

    function pressed(button) {
      document.querySelectorAll(".imaging-open-series, .imaging-open-file").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
    }

    // Before another series or file is opened, the requests of this one are
    // let finish (never aborted): each answer has saved the session before the
    // next manifest marks the new series opened (see imaging/views.py).
    function switchTo(url) {
      state.switching = true;
      return whenIdle().then(function () {
        return fetch(url, { credentials: "same-origin" });
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.error || "This cannot be shown."); }
          return body;
        });
      });
    }

    function forget() {
      dropAll();
      cacheWindow = "";
      state.switching = false;
      state.errorKey = null;
      state.shownSeries = null;
      if (state.bitmap && state.bitmapOrphan && state.bitmap.close) { state.bitmap.close(); }
      state.bitmap = null;
      state.bitmapOrphan = false;
    }

    function openManifest(m) {
      forget();
      state.manifest = m;
      state.index = 0;
      state.loadedKey = "";
      direction = 1;
      viewport.dataset.series = String(m.series);
      viewport.dataset.count = String(m.slices.length);
      slider.min = "1";
      slider.max = String(m.slices.length);
      slider.disabled = m.slices.length < 2;
      preset.value = "default";
      resetView();
      applyPreset("default");  // asks for slice 0
    }

    function loadSeries(url) {
      showError("");
      state.file = null;
      pageImg.hidden = true;
      pagesBar.hidden = true;
      canvas.hidden = false;
      viewport.classList.remove("imaging-page-mode");
      status.textContent = "Loading…";
      return switchTo(url).then(openManifest).catch(function (err) {
        forget();
        state.manifest = null;
        status.textContent = "";
        showError(err.message);
      });
    }

    function showPage() {
      pageImg.src = state.file.page_base + "/" + state.page + ".png";
      viewport.scrollTop = 0;
      pageStatus();
    }

    function turnPage(by) {
      var page = Math.max(1, Math.min(state.file.pages, state.page + by));
      if (page !== state.page) { state.page = page; showPage(); }
    }

    function loadFile(url) {
      showError("");
      switchTo(url).then(function (f) {
        forget();
        state.manifest = null;
        state.file = f;
        state.page = 1;
        state.zoom = 1;
        canvas.hidden = true;
        pageImg.hidden = false;
        viewport.classList.add("imaging-page-mode");
        pagesBar.hidden = f.pages < 2;
        sizePage();
        showPage();
      }).catch(function (err) { forget(); showError(err.message); });
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
    $("imaging-page-prev").addEventListener("click", function () { if (state.file) { turnPage(-1); } });
    $("imaging-page-next").addEventListener("click", function () { if (state.file) { turnPage(1); } });
    slider.addEventListener("input", function () { go(parseInt(slider.value, 10) - 1); });
    preset.addEventListener("change", function () { applyPreset(preset.value); });
    $("imaging-zoom-in").addEventListener("click", function () { zoomBy(1.25); });
    $("imaging-zoom-out").addEventListener("click", function () { zoomBy(0.8); });
    $("imaging-reset").addEventListener("click", resetView);

    // The keys work from the moment the page loads, wherever the focus is,
    // except while someone types or chooses in a form field (the review form
    // beside the viewer, the slider and selects keep their own keys).
    function typing(el) {
      if (!el || el === document.body) { return false; }
      if (el.isContentEditable) { return true; }
      return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT";
    }

    function pageKey(key) {
      switch (key) {
        case "ArrowDown": viewport.scrollTop += 60; return true;
        case "ArrowUp": viewport.scrollTop -= 60; return true;
        case "ArrowRight": case "PageDown": turnPage(1); return true;
        case "ArrowLeft": case "PageUp": turnPage(-1); return true;
        case "Home": turnPage(-state.file.pages); return true;
        case "End": turnPage(state.file.pages); return true;
        default: return false;
      }
    }

    function sliceKey(key) {
      var m = state.manifest;
      switch (key) {
        case "ArrowDown": case "ArrowRight": go(state.index + 1); return true;
        case "ArrowUp": case "ArrowLeft": go(state.index - 1); return true;
        case "PageDown": go(state.index + 10); return true;
        case "PageUp": go(state.index - 10); return true;
        case "Home": go(0); return true;
        case "End": go(m ? m.slices.length - 1 : 0); return true;
        default: return false;
      }
    }

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (typing(event.target)) { return; }
      if (!state.manifest && !state.file) { return; }
      var handled = state.file ? pageKey(event.key) : sliceKey(event.key);
      if (!handled) {
        handled = true;
        switch (event.key) {
          case "+": case "=": zoomBy(1.25); break;
          case "-": zoomBy(0.8); break;
          case "0": resetView(); break;
          default: handled = false;
        }
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
    // Keys go to the viewer at once (see "typing"); the focus ring says so.
    if (!document.activeElement || document.activeElement === document.body) {
      viewport.focus({ preventScroll: true });
    }
    // The page opened its first series and carries its manifest (a JSON data
    // block): slice 0 is the first request. Without it, ask for the manifest.
    var initial = $("imaging-initial");
    if (root.dataset.initial) {
      var first = document.querySelector(".imaging-open-series");
      if (first) { pressed(first); }
      if (initial) {
        status.textContent = "Loading…";
        openManifest(JSON.parse(initial.textContent));
      } else {
        loadSeries(root.dataset.initial);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
