// Progressive enhancement of the MRI upload box: each file is sent on its
// own with a progress bar, so a failed file can be retried alone. Without
// JavaScript the plain multipart form posts the chosen files and comes back.
// Every word shown comes from the page (data-msg-* on #files), translated there.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var box = document.getElementById("files");
  if (!form || !box || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = document.getElementById("id_file");
  var status = document.getElementById("upload-status");
  var list = document.getElementById("file-list");
  var stepForm = document.getElementById("step-form");
  var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
  var inFlight = 0;
  var failed = 0;
  var continueAfter = false;

  function msg(name) { return box.getAttribute("data-msg-" + name) || ""; }

  function row(file) {
    var wrap = document.createElement("div");
    wrap.className = "mb-2";
    var label = document.createElement("div");
    label.className = "small";
    label.textContent = file.name;
    var bar = document.createElement("progress");
    bar.className = "upload-progress w-100";
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", msg("uploading").replace("{name}", file.name));
    var note = document.createElement("div");
    note.className = "small";
    note.setAttribute("role", "status");
    wrap.appendChild(label); wrap.appendChild(bar); wrap.appendChild(note);
    status.appendChild(wrap);
    return { wrap: wrap, bar: bar, msg: note };
  }

  // After a good upload, errors about an earlier attempt or a missing file are stale.
  function clearStaleErrors() {
    Array.prototype.forEach.call(status.querySelectorAll(".upload-error, .upload-blocked"), function (el) { el.remove(); });
    var noFile = box.getAttribute("data-no-file-error");
    if (!noFile) { return; }
    var stale = Array.prototype.filter.call(
      document.querySelectorAll("#error-summary li, #div_id_mri_status .invalid-feedback"),
      function (el) { return el.textContent.indexOf(noFile) !== -1; }
    );
    stale.forEach(function (el) { el.remove(); });
    var summary = document.getElementById("error-summary");
    if (summary && !summary.querySelector("li")) { summary.remove(); }
    if (!document.querySelector("#div_id_mri_status .invalid-feedback")) {
      Array.prototype.forEach.call(document.querySelectorAll('input[name="mri_status"]'), function (r) {
        r.classList.remove("is-invalid");
      });
    }
  }

  function fail(file, ui, text) {
    failed += 1;
    ui.bar.remove();
    ui.wrap.classList.add("upload-error");
    ui.msg.className = "small text-danger";
    ui.msg.textContent = file.name + ": " + text;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "btn btn-sm btn-outline-secondary ms-2";
    retry.textContent = msg("retry");
    retry.addEventListener("click", function () {
      failed -= 1;  // this failure is being retried: only the retry's outcome counts now
      ui.wrap.remove();
      send(file, row(file));
    });
    ui.msg.appendChild(retry);
  }

  function finished() {
    inFlight -= 1;
    if (inFlight > 0 || !continueAfter) { return; }
    continueAfter = false;
    if (failed === 0) {
      stepForm.submit();  // submit() does not fire our submit handler again
      return;
    }
    Array.prototype.forEach.call(status.querySelectorAll(".upload-blocked"), function (el) { el.remove(); });
    var note = document.createElement("div");
    note.className = "alert alert-danger mt-2 upload-blocked";
    note.setAttribute("role", "alert");
    note.setAttribute("tabindex", "-1");
    note.textContent = msg("blocked");
    status.appendChild(note);
    note.focus();
  }

  function send(file, ui) {
    inFlight += 1;
    var data = new FormData();
    data.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { ui.bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = { ok: false }; }
      if (xhr.status === 200 && body.ok) {
        ui.wrap.remove();
        var empty = document.getElementById("no-files");
        if (empty) { empty.remove(); }
        list.insertAdjacentHTML("beforeend", body.html);
        clearStaleErrors();
      } else {
        fail(file, ui, body.error || msg("failed"));
      }
      finished();
    });
    xhr.addEventListener("error", function () {
      fail(file, ui, msg("dropped"));
      finished();
    });
    xhr.send(data);
  }

  function sendChosen() {
    failed = 0;
    Array.prototype.forEach.call(status.querySelectorAll(".upload-error, .upload-blocked"), function (el) { el.remove(); });
    Array.prototype.forEach.call(input.files, function (file) { send(file, row(file)); });
    input.value = "";
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    sendChosen();
  });

  // Continue pressed with a file chosen but not uploaded (or still uploading):
  // upload it first, then continue; if it fails, stay and say so.
  if (stepForm) {
    stepForm.addEventListener("submit", function (e) {
      if (box.hidden) { return; }  // the patient did not choose to upload
      var chosen = input.files && input.files.length > 0;
      if (!chosen && inFlight === 0) { return; }
      e.preventDefault();
      continueAfter = true;
      var note = document.createElement("div");
      note.className = "small upload-blocked";
      note.setAttribute("role", "status");
      note.textContent = msg("first");
      if (chosen) { sendChosen(); }
      status.appendChild(note);
    });
  }
})();
