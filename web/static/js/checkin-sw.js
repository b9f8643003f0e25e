// The check-in screen's service worker: a reload without a network still opens the screen. It is
// registered per event with the scope of that event's screen (/events/<id>/checkin), and keeps only the
// screen's page as staff open it (never a page with search results in it) and the static files it loads.
// Everything else (scans, searches, the participant index, counters) goes to the network untouched:
// the participant index lives in IndexedDB, the queue of scans in localStorage.
"use strict";

const CACHE = "eventops-checkin-v1";
const SCREEN = /^\/events\/\d+\/checkin$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && SCREEN.test(url.pathname) && !url.searchParams.has("q")) {
    event.respondWith(networkFirst(request, screenKey(url), isPage));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(networkFirst(request, url.pathname + url.search, (response) => response.ok));
  }
});

// The page that registered this worker loaded before the worker existed, so it was not kept on the way:
// the screen sends its own address and its files, and they are fetched and kept now.
self.addEventListener("message", (event) => {
  if (!event.data || !Array.isArray(event.data.keep)) return;
  event.waitUntil(keep(event.data.keep).then((kept) => event.source && event.source.postMessage({ kept })));
});

async function keep(urls) {
  const cache = await caches.open(CACHE);
  let kept = 0;
  for (const address of urls) {
    const url = new URL(address, self.location.origin);
    if (url.origin !== self.location.origin) continue;
    const screen = SCREEN.test(url.pathname) && !url.searchParams.has("q");
    if (!screen && !url.pathname.startsWith("/static/")) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (screen ? !isPage(response) : !response.ok) continue;
      await cache.put(screen ? screenKey(url) : url.pathname + url.search, response);
      kept += 1;
    } catch (error) { /* offline already: kept at the next visit */ }
  }
  return kept;
}

// One copy per place (event, day, session): the page's other parameters do not change the shell.
function screenKey(url) {
  const day = url.searchParams.get("day") || "";
  const session = url.searchParams.get("session_id") || "";
  return `${url.pathname}?day=${encodeURIComponent(day)}&session_id=${encodeURIComponent(session)}`;
}

// The screen itself, never the login page a logged-out session is sent to.
function isPage(response) {
  return response.ok && !response.redirected && (response.headers.get("Content-Type") || "").startsWith("text/html");
}

// The network while there is one (the server stays the truth); the kept copy when there is none.
async function networkFirst(request, key, worthKeeping) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (worthKeeping(response)) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(key);
    if (kept) return kept;
    throw error;
  }
}
