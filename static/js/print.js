// The printable routine's "Print" button (hidden without JavaScript: the
// browser's own Print command works the same).
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
