// The check-in screen. Every scan, tap and undo is put in a queue kept in localStorage and stays there
// until the server has answered it, so a dropped Wi-Fi never loses a check-in; each carries its own
// nonce, so sending it again can never make a second record. Only what is worth sending again stays:
// no network, or a service the gateway cannot reach (502–504). Any other answer is final, and a refusal
// (a damaged or crafted code) is dropped and listed under the queue, as is what waited past a bound.
(() => {
  "use strict";
  const root = document.getElementById("checkin");
  if (!root) return;
  const input = document.getElementById("checkin-q");
  const results = document.getElementById("results");
  const banner = document.getElementById("banner");
  const pendingLine = document.getElementById("pending");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const text = root.dataset; // translated messages: data-msg-*
  const QUEUE_KEY = root.dataset.queueKey;
  const RETRY_MS = 4000;
  // «Service unavailable» answers one entry may get before it is given up: half an hour at RETRY_MS. A lost
  // network does not count: the Wi-Fi may be gone for an hour and the check-ins must wait for it.
  const MAX_UNAVAILABLE_ANSWERS = 450;
  // A scan older than this is of another day's screen: it is dropped rather than sent to a day gone by.
  const MAX_AGE_MS = 24 * 3600 * 1000;
  const DROPPED_KEY = `${root.dataset.queueKey}-dropped`;
  const DROPPED_SHOWN = 20;
  const RESEND = new Set([502, 503, 504]);
  const inFlight = new Set();
  let loggedOut = false; // the server said 401/403: nothing is sent until someone logs in again

  // crypto.randomUUID exists only on https and localhost; a venue laptop may serve plain http on the LAN.
  function newNonce() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // --- the queue of requests not yet answered by the server -----------------------------------------
  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (e) { return []; }
  }
  function saveQueue(queue) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    showPending();
  }
  function forget(nonce) { saveQueue(loadQueue().filter((entry) => entry.body.nonce !== nonce)); }
  function countUnavailable(nonce) {
    const queue = loadQueue();
    const entry = queue.find((e) => e.body.nonce === nonce);
    if (!entry) return 0;
    entry.unavailable = (entry.unavailable || 0) + 1;
    saveQueue(queue);
    return entry.unavailable;
  }

  // --- what was dropped without being recorded, kept so that staff can check those people by hand -------
  function loadDropped() {
    try { return JSON.parse(localStorage.getItem(DROPPED_KEY)) || []; } catch (e) { return []; }
  }
  function drop(entry, reason) {
    forget(entry.body.nonce);
    const what = entry.body.code || (entry.body.participant_id ? `${text.msgDroppedTap} ${entry.body.participant_id}` : entry.url);
    const dropped = [{ what, at: entry.body.scanned_at, reason }, ...loadDropped()].slice(0, DROPPED_SHOWN);
    localStorage.setItem(DROPPED_KEY, JSON.stringify(dropped));
    showDropped();
  }
  function showDropped() {
    const box = document.getElementById("dropped");
    const dropped = loadDropped();
    box.hidden = dropped.length === 0;
    const list = box.querySelector("ul");
    list.replaceChildren(...dropped.map((item) => {
      const line = document.createElement("li");
      const when = item.at ? new Date(item.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
      // textContent only: a crafted code must never become markup
      line.textContent = `${when} · ${item.what.replace(/[\u0000-\u001f\u007f]/g, "\ufffd")} — ${item.reason}`;
      return line;
    }));
  }
  function wordsOf(html) {
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent.replace(/\s+/g, " ").trim();
  }
  function showPending() {
    const count = loadQueue().length;
    pendingLine.hidden = count === 0;
    pendingLine.textContent = `${text.msgPending} ${count}`;
  }

  // A scan of a badge code, a tap on a search result, or an undo: queued first, then sent at once.
  function submit(url, fields, show = true) {
    const entry = { url, body: { ...fields, nonce: newNonce(), scanned_at: new Date().toISOString() } };
    saveQueue([...loadQueue(), entry]);
    send(entry, show);
  }
  function scan(fields) {
    submit(root.dataset.scanUrl, { ...fields, day: root.dataset.day, session_id: root.dataset.sessionId || null });
  }

  // Sends one entry; only an answer from the server removes it from the queue.
  async function send(entry, show) {
    const nonce = entry.body.nonce;
    if (loggedOut) {
      if (show) showLoggedOut();
      return;
    }
    if (inFlight.has(nonce)) return;
    inFlight.add(nonce);
    let response, body = "";
    try {
      response = await fetch(entry.url, {
        method: "POST", credentials: "same-origin", body: JSON.stringify(entry.body),
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken, "HX-Request": "true" },
      });
      body = await response.text();
    } catch (e) {
      response = null; // no network: keep it queued
    } finally {
      inFlight.delete(nonce);
    }
    if (!response) { // no network: keep it, however long it takes
      if (show) showBanner(null, "unavailable", text.msgOffline);
      return;
    }
    if (RESEND.has(response.status)) {
      // The gateway is up but a service is not; the server's own words say which one.
      if (show) showBanner(body.includes("data-outcome") ? body : null, "unavailable", text.msgOffline);
      if (countUnavailable(nonce) >= MAX_UNAVAILABLE_ANSWERS) drop(entry, text.msgGaveUp);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      showLoggedOut(); // whether or not this entry was shown: the whole screen has stopped working
      return;
    }
    // 400 is the CSRF check; a redirect is the login page: both need a reload, and the scan waits for it.
    if (response.status === 400 || response.redirected) {
      if (show) showBanner(null, "error", text.msgReload);
      return;
    }
    // Any other answer is final: a record (2xx), or a refusal or failure on this very input, which sending
    // again would only repeat (4xx, 500): dropped, and listed if nobody saw the banner saying so.
    if (response.ok || show) forget(nonce);
    else drop(entry, wordsOf(body) || `HTTP ${response.status}`);
    if (show) showBanner(body, "error", "");
    else if (loadQueue().length === 0 && banner.querySelector('[data-outcome="unavailable"]')) {
      showBanner(null, "sent", text.msgSent); // the «no connection» banner would be stale now
    }
    const trigger = response.headers.get("HX-Trigger");
    if (trigger) document.body.dispatchEvent(new CustomEvent(trigger, { bubbles: true }));
  }

  function flush() {
    if (loggedOut) return;
    for (const entry of loadQueue()) {
      if (Date.now() - Date.parse(entry.body.scanned_at) > MAX_AGE_MS) drop(entry, text.msgGaveUp);
      else send(entry, false);
    }
  }

  // The session has ended (a logout elsewhere, a new password, a deactivated account). Said once, with a
  // link to the login page that comes back here; what is queued stays on the tablet and goes after it.
  function showLoggedOut() {
    loggedOut = true;
    if (banner.querySelector('[data-outcome="login"]')) return;
    showBanner(null, "login", text.msgLogin);
    const link = document.createElement("a");
    link.href = `${root.dataset.loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`;
    link.textContent = text.msgLoginLink;
    link.className = "banner-login";
    banner.querySelector('[data-outcome="login"] div').appendChild(link);
  }
  // The counters and the recent-scans log poll with htmx: their 401 says the same.
  document.body.addEventListener("htmx:responseError", (event) => {
    if ([401, 403].includes(event.detail.xhr.status)) showLoggedOut();
  });

  // --- what the staff member sees and hears ---------------------------------------------------------
  function showBanner(html, fallbackKind, fallbackText) {
    if (html && html.includes("data-outcome")) {
      banner.innerHTML = html;
    } else {
      // Not our banner (an error page fragment, or nothing at all): show its words in a plain red one.
      const words = fallbackText || wordsOf(html);
      banner.innerHTML = "";
      const box = document.createElement("div");
      const tone = { unavailable: "warn", sent: "info" }[fallbackKind] || "bad";
      box.className = `banner banner-${tone} outcome-${fallbackKind}`;
      box.dataset.outcome = fallbackKind;
      box.setAttribute("role", "alert");
      box.innerHTML = `<span class="banner-icon" aria-hidden="true">${tone === "info" ? "✔" : "⚠"}</span>`
        + '<div><strong class="banner-title"></strong></div>';
      box.querySelector("strong").textContent = words;
      banner.appendChild(box);
    }
    const shown = banner.querySelector("[data-outcome]");
    shown.classList.add("banner-new"); // a short flash, so the same outcome twice is still noticed
    setTimeout(() => shown.classList.remove("banner-new"), 400);
    if (shown.dataset.outcome !== "sent") beep(shown.dataset.outcome);
  }

  // WebAudio tones, no sound files: one high beep for a check-in, two low ones for anything to look at.
  let audio = null;
  function beep(outcome) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const tones = outcome === "checked_in" ? [[1320, 0]] : outcome === "undo" ? [[660, 0]] : [[300, 0], [300, 0.24]];
      for (const [frequency, start] of tones) {
        const at = audio.currentTime + start;
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.3, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + 0.18);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + 0.2);
      }
    } catch (e) { /* no sound on this device: colour and words still tell */ }
  }

  // --- the search field: always focused, Enter means «a scanner just typed a code» ------------------
  function refocus() {
    const active = document.activeElement;
    const elsewhere = active && active !== input && ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName);
    if (!elsewhere && !cameraOpen) input.focus({ preventScroll: true });
  }
  function clearSearch() {
    input.value = "";
    results.innerHTML = "";
  }
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const code = input.value.trim();
    clearSearch();
    if (code) scan({ code });
  });
  input.addEventListener("blur", () => setTimeout(refocus, 300));
  document.getElementById("search-form").addEventListener("submit", (event) => event.preventDefault());

  // A tap on a search result checks that person in.
  results.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = event.target.querySelector("[name=participant_id]").value;
    clearSearch();
    scan({ participant_id: Number(id) });
    refocus();
  });

  // Undo from the recent-scans log, after a confirmation.
  document.getElementById("log").addEventListener("click", (event) => {
    const button = event.target.closest("[data-undo-url]");
    if (!button) return;
    if (window.confirm(text.msgUndoConfirm)) {
      button.disabled = true;
      submit(button.dataset.undoUrl, { reason: "mistake" });
    }
    refocus();
  });

  // --- camera QR scanning, for tablets without a hardware scanner -----------------------------------
  let cameraOpen = false, camera = null, lastCode = "", lastAt = 0;
  const cameraButton = document.getElementById("camera-button");
  const cameraBox = document.getElementById("camera");
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) cameraButton.hidden = false;

  function loadQrLibrary() {
    if (window.Html5Qrcode) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = root.dataset.qrLibrary;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  cameraButton.addEventListener("click", async () => {
    cameraOpen = true;
    cameraBox.hidden = false;
    try {
      await loadQrLibrary();
      camera = camera || new window.Html5Qrcode("camera-view");
      await camera.start({ facingMode: "environment" }, { fps: 10, qrbox: 240 }, (decoded) => {
        // The camera sees the same badge many times a second: one scan per badge per 3 s.
        if (decoded === lastCode && Date.now() - lastAt < 3000) return;
        lastCode = decoded; lastAt = Date.now();
        scan({ code: decoded.trim() });
      });
    } catch (e) {
      closeCamera();
      showBanner(null, "error", text.msgCameraError);
    }
  });
  async function closeCamera() {
    cameraOpen = false;
    cameraBox.hidden = true;
    if (camera && camera.isScanning) await camera.stop().catch(() => {});
    refocus();
  }
  document.getElementById("camera-close").addEventListener("click", closeCamera);

  // --- resending --------------------------------------------------------------------------------------
  window.addEventListener("online", flush);
  setInterval(flush, RETRY_MS);
  showPending();
  showDropped();
  document.getElementById("dropped-clear").addEventListener("click", () => {
    localStorage.removeItem(DROPPED_KEY);
    showDropped();
  });
  flush(); // what an earlier page (or a reload after «Reload the page») left unsent
  refocus();
})();
