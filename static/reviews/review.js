// The structured review's "Add a level": a new findings row without a reload.
// Progressive enhancement of a Django formset: the row is the formset's empty
// form (a <template> with __prefix__), numbered by TOTAL_FORMS, which then
// grows by one. Without this script the same button posts the form back with
// one row more and saves nothing (reviews/admin.py).
(function () {
  "use strict";

  function init() {
    var add = document.getElementById("add-finding");
    var template = document.getElementById("finding-empty");
    var rows = document.getElementById("findings-rows");
    var total = document.getElementById("id_f-TOTAL_FORMS");
    if (!add || !template || !rows || !total) { return; }
    var max = parseInt(add.dataset.max || "1000", 10);

    add.addEventListener("click", function (event) {
      event.preventDefault();
      var n = parseInt(total.value, 10);
      if (n >= max) { return; }
      var html = template.innerHTML.replace(/__prefix__/g, String(n)).replace(/__num__/g, String(n + 1));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(n + 1);
      add.disabled = n + 1 >= max;
      var level = document.getElementById("id_f-" + n + "-level");
      if (level) { level.focus(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
