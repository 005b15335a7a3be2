// Small enhancements for the request steps; everything works without them.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Show the MRI details only when the patient has an MRI, and the upload
  // box (data-show-for="upload") only when they chose to upload it. Without
  // JavaScript both stay visible.
  var radios = document.querySelectorAll('input[name="mri_status"]');
  var details = document.querySelector(".mri-details");
  var dependents = document.querySelectorAll("[data-show-for]");
  function sync() {
    var chosen = document.querySelector('input[name="mri_status"]:checked');
    var value = chosen ? chosen.value : "";
    if (details) { details.hidden = value === "none"; }
    dependents.forEach(function (el) { el.hidden = value !== el.getAttribute("data-show-for"); });
  }
  if (!radios.length) { return; }
  radios.forEach(function (r) { r.addEventListener("change", sync); });
  sync();
})();
