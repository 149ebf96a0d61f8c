// The daypart form says, as you type, whether the window runs overnight:
// "22:00 → 06:00 next day". The server shows the same words once saved.
(function () {
  "use strict";
  var start = document.getElementById("id_start_time");
  var end = document.getElementById("id_end_time");
  var preview = document.getElementById("window-preview");
  if (!start || !end || !preview) return;
  function show() {
    var from = start.value.slice(0, 5);
    var to = end.value.slice(0, 5);
    if (!from || !to) { preview.textContent = ""; return; }
    var text = from + " → " + to;
    if (to === from) text += " next day (24 hours)";
    else if (to < from) text += " next day";
    preview.textContent = text;
  }
  start.addEventListener("input", show);
  end.addEventListener("input", show);
  show();
})();
