// Small enhancements on top of htmx. Pages work without this file.
document.addEventListener("htmx:responseError", (event) => {
  // An htmx request that failed still shows the server's explanation (our error fragment).
  const target = event.detail.target;
  if (target && event.detail.xhr.responseText) {
    target.innerHTML = event.detail.xhr.responseText;
  }
});
