// Small enhancements for the request steps; everything works without them.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Show the MRI details only when the patient has an MRI.
  var radios = document.querySelectorAll('input[name="mri_status"]');
  var details = document.querySelector(".mri-details");
  function sync() {
    if (!details) { return; }
    var chosen = document.querySelector('input[name="mri_status"]:checked');
    details.hidden = !!chosen && chosen.value === "none";
  }
  radios.forEach(function (r) { r.addEventListener("change", sync); });
  sync();
})();
