// The dashboard's live parts poll (hx-trigger="every Ns") only while the tab
// is visible. A trigger filter ([document.visibilityState === 'visible'])
// would need eval, which the Content-Security-Policy forbids: the request is
// cancelled here instead.
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.visibilityState !== "visible" && event.detail.elt.id === "live") {
    event.preventDefault();
  }
});
