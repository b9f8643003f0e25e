// Small enhancements on top of htmx. Pages work without this file. No template carries an inline handler
// (the Content-Security-Policy forbids them): what they did is here, keyed by data- attributes.

// A form with data-confirm asks first (deleting, closing, re-issuing); without JavaScript it just submits.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// A button with data-print prints the page (the survey results).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

document.addEventListener("htmx:responseError", (event) => {
  // An htmx request that failed still shows the server's explanation (our error fragment).
  const target = event.detail.target;
  if (target && event.detail.xhr.responseText) {
    target.innerHTML = event.detail.xhr.responseText;
  }
});

// After a logout the check-in screen's offline copies leave this device: the participant index (IndexedDB),
// the kept page (the service worker's cache) and the worker itself, so whoever picks up the tablet next finds
// no list of participants. The queue of scans not yet sent stays: it goes out when staff log in again.
if (document.querySelector("[data-forget-offline]")) {
  if (window.indexedDB) indexedDB.deleteDatabase("eventops-checkin");
  if (window.caches) {
    caches.keys().then((keys) => keys.filter((key) => key.startsWith("eventops-checkin")).forEach((key) => caches.delete(key)));
  }
  if (navigator.serviceWorker) {
    navigator.serviceWorker.getRegistrations().then((all) => all.forEach((registration) => registration.unregister()));
  }
}
