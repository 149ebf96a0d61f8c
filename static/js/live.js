// The dashboard's live parts poll (hx-trigger="every Ns") only while the tab
// is visible, and not while a person has ticked rows in them (the alerts to
// acknowledge): a refresh would untick them. A trigger filter would need
// eval, which the Content-Security-Policy forbids: the request is cancelled
// here instead.
document.addEventListener("htmx:beforeRequest", function (event) {
  var elt = event.detail.elt;
  if (elt.id !== "live") {
    return;
  }
  if (document.visibilityState !== "visible" || elt.querySelector("input[name=alert]:checked")) {
    event.preventDefault();
  }
});
