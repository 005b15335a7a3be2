// Progressive enhancement of the MRI upload form: each file is sent on its
// own with a progress bar, so a failed file can be retried alone. Without
// JavaScript the plain multipart form posts one file and comes back here.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = document.getElementById("id_file");
  var status = document.getElementById("upload-status");
  var list = document.getElementById("file-list");
  var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;

  function row(file) {
    var wrap = document.createElement("div");
    wrap.className = "mb-2";
    var label = document.createElement("div");
    label.className = "small";
    label.textContent = file.name;
    var bar = document.createElement("progress");
    bar.className = "upload-progress w-100";
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    var msg = document.createElement("div");
    msg.className = "small";
    msg.setAttribute("role", "status");
    wrap.appendChild(label); wrap.appendChild(bar); wrap.appendChild(msg);
    status.appendChild(wrap);
    return { wrap: wrap, bar: bar, msg: msg };
  }

  function send(file, ui) {
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
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = { ok: false, error: "The upload failed. Please try again." }; }
      if (xhr.status === 200 && body.ok) {
        ui.wrap.remove();
        var empty = document.getElementById("no-files");
        if (empty) { empty.remove(); }
        list.insertAdjacentHTML("beforeend", body.html);
      } else {
        ui.bar.remove();
        ui.msg.className = "small text-danger";
        ui.msg.textContent = file.name + ": " + (body.error || "The upload failed. Please try again.");
        var retry = document.createElement("button");
        retry.type = "button";
        retry.className = "btn btn-sm btn-outline-secondary ms-2";
        retry.textContent = "Try again";
        retry.addEventListener("click", function () { ui.wrap.remove(); send(file, row(file)); });
        ui.msg.appendChild(retry);
      }
    });
    xhr.addEventListener("error", function () {
      ui.msg.className = "small text-danger";
      ui.msg.textContent = file.name + ": the connection dropped. Please try again.";
    });
    xhr.send(data);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    Array.prototype.forEach.call(input.files, function (file) { send(file, row(file)); });
    input.value = "";
  });
})();
