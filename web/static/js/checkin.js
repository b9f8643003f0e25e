// The check-in screen. Every scan, tap and undo is put in a queue kept in localStorage and stays there
// until the server has answered it, so a dropped Wi-Fi never loses a check-in; each carries its own
// nonce and the moment of the scan, so sending it again can never make a second record. Only what is worth
// sending again stays: no network, or a service the gateway cannot reach (502–504). Any other answer is
// final, and a refusal (a damaged or crafted code) is dropped and listed under the queue, as is what waited
// past a bound.
//
// Offline first: the screen keeps the event's participants (checkin-index.js) and, when the server cannot
// be reached, says so and goes on: it searches that list, and a tap or a scan gets a provisional answer from
// it («отмечен (офлайн)», «уже отмечен на этом планшете»), marked `offline=1` when it is sent later; what
// the server then decided for each such scan is listed. A name typed with Enter is searched, never sent as a
// badge code. One tab at a time sends the queue (Web Locks, or a lease in localStorage where there are none).
(() => {
  "use strict";
  const root = document.getElementById("checkin");
  if (!root) return;
  const input = document.getElementById("checkin-q");
  const results = document.getElementById("results");
  const banner = document.getElementById("banner");
  const pendingLine = document.getElementById("pending");
  const connectionLine = document.getElementById("connection");
  let csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const text = root.dataset; // translated messages: data-msg-*
  const QUEUE_KEY = root.dataset.queueKey;
  const RETRY_MS = 4000;
  const INDEX_REFRESH_MS = 60 * 1000;
  // «Service unavailable» answers one entry may get before it is given up: half an hour at RETRY_MS. A lost
  // network does not count: the Wi-Fi may be gone for an hour and the check-ins must wait for it.
  const MAX_UNAVAILABLE_ANSWERS = 450;
  // A scan older than this is of another day's screen: it is dropped rather than sent to a day gone by.
  const MAX_AGE_MS = 24 * 3600 * 1000;
  const DROPPED_KEY = `${QUEUE_KEY}-dropped`;
  const DROPPED_SHOWN = 20;
  const REPLAYED_KEY = `${QUEUE_KEY}-replayed`;
  const REPLAYED_SHOWN = 50;
  // Who this tablet has seen checked in here (this event, day and session): the offline answers' memory.
  const PLACE = `${root.dataset.eventId}:${root.dataset.day}:${root.dataset.sessionId || "door"}`;
  const LOCAL_KEY = `${QUEUE_KEY}-checked-${PLACE}`;
  // Sent side by side when the connection returns: enough to drain 500 scans in seconds, few enough not to
  // stall the gateway of a laptop for the other tablets.
  const DRAIN_PARALLEL = 4;
  const DRAIN_LOCK = "eventops-checkin-drain";
  const LEASE_KEY = `${QUEUE_KEY}-drain-lease`;
  const TAB = Math.random().toString(36).slice(2);
  const RESEND = new Set([502, 503, 504]);
  const inFlight = new Set();
  const channel = window.BroadcastChannel ? new BroadcastChannel("eventops-checkin") : null;
  const othersSending = new Set(); // nonces another tab is sending (without Web Locks)
  let loggedOut = false; // the server said 401/403: nothing is sent until someone logs in again
  let online = navigator.onLine !== false;
  let draining = false;
  const Index = window.EventOpsCheckinIndex;
  const kept = Index ? new Index.KeptIndex(root.dataset.eventId, root.dataset.indexUrl) : null;
  let participants = null; // the ParticipantIndex in memory, once there is one

  // crypto.randomUUID exists only on https and localhost; a venue laptop may serve plain http on the LAN.
  function newNonce() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  function readList(key) {
    try { return JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return []; }
  }

  // --- the queue of requests not yet answered by the server -----------------------------------------
  function loadQueue() { return readList(QUEUE_KEY); }
  function saveQueue(queue) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    showPending();
  }
  function isQueued(nonce) { return loadQueue().some((entry) => entry.body.nonce === nonce); }
  function forget(nonce) { saveQueue(loadQueue().filter((entry) => entry.body.nonce !== nonce)); }
  function update(nonce, change) {
    const queue = loadQueue();
    const entry = queue.find((e) => e.body.nonce === nonce);
    if (!entry) return null;
    change(entry);
    saveQueue(queue);
    return entry;
  }
  function countUnavailable(nonce) {
    const entry = update(nonce, (e) => { e.unavailable = (e.unavailable || 0) + 1; });
    return entry ? entry.unavailable : 0;
  }

  // --- what was dropped without being recorded, kept so that staff can check those people by hand -------
  function drop(entry, reason) {
    forget(entry.body.nonce);
    const what = entry.label || entry.body.code
      || (entry.body.participant_id ? `${text.msgDroppedTap} ${entry.body.participant_id}` : entry.url);
    const dropped = [{ what, at: entry.body.scanned_at, reason }, ...readList(DROPPED_KEY)].slice(0, DROPPED_SHOWN);
    localStorage.setItem(DROPPED_KEY, JSON.stringify(dropped));
    showDropped();
  }
  function clean(value) { return String(value || "").replace(/[\u0000-\u001f\u007f]/g, "\ufffd"); }
  function timeOf(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }
  function showList(boxId, key, line) {
    const box = document.getElementById(boxId);
    const items = readList(key);
    box.hidden = items.length === 0;
    // textContent only: a crafted code must never become markup
    box.querySelector("ul").replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = line(item);
      if (item.outcome) li.className = `outcome-${item.outcome}`;
      return li;
    }));
  }
  function showDropped() {
    showList("dropped", DROPPED_KEY, (item) => `${timeOf(item.at)} · ${clean(item.what)} — ${item.reason}`);
  }
  function showReplayed() {
    showList("replayed", REPLAYED_KEY, (item) => `${timeOf(item.at)} · ${clean(item.what)} — ${item.words}`);
  }
  function wordsOf(html) {
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent.replace(/\s+/g, " ").trim();
  }
  function showPending() {
    const count = loadQueue().length;
    pendingLine.hidden = count === 0;
    pendingLine.textContent = `${text.msgPending} ${count}`;
  }

  // --- who this tablet has seen checked in, for the offline answers ------------------------------------
  function checkedHere() { return new Set(readList(LOCAL_KEY)); }
  function noteChecked(participantId, isIn) {
    if (!participantId) return;
    const ids = checkedHere();
    if (isIn) ids.add(participantId); else ids.delete(participantId);
    localStorage.setItem(LOCAL_KEY, JSON.stringify([...ids]));
  }

  // --- online or not ----------------------------------------------------------------------------------
  function setOnline(now) {
    if (online === now) return;
    online = now;
    connectionLine.hidden = now;
    if (now) { flush(); refreshIndex(); }
  }
  function showConnection() { connectionLine.hidden = online; }

  // A scan of a badge code, a tap on a search result, or an undo: queued first, then sent at once.
  function submit(url, fields, label = "") {
    const entry = { url, label, body: { ...fields, nonce: newNonce(), scanned_at: new Date().toISOString() } };
    if (!online) entry.body.offline = 1;
    saveQueue([...loadQueue(), entry]);
    if (online) send(entry, true);
    else answerOffline(entry);
    return entry;
  }
  function scan(fields, label = "") {
    submit(root.dataset.scanUrl, { ...fields, day: root.dataset.day, session_id: root.dataset.sessionId || null }, label);
  }

  // Sends one entry; only an answer from the server removes it from the queue. Resolves to "sent"
  // (answered, or sent meanwhile by another tab), "kept" (no network, or the service is away) or "stopped".
  async function send(entry, show) {
    const nonce = entry.body.nonce;
    if (loggedOut) {
      if (show) showLoggedOut();
      return "stopped";
    }
    if (inFlight.has(nonce) || othersSending.has(nonce)) return "kept";
    if (navigator.locks) {
      // The lock of this one entry: a second tab draining the same queue skips it instead of sending it too.
      return navigator.locks.request(`eventops-checkin-${nonce}`, { ifAvailable: true },
        (lock) => (lock ? sendNow(entry, show) : "kept"));
    }
    return sendNow(entry, show);
  }

  // localStorage reaches another tab's process a moment late, so a tab that has just had an entry answered
  // also holds a lock named after it for a while: the browser keeps locks in one place, seen by every tab
  // at once, and a second tab that finds it there does not send the entry again.
  const SENT_LOCK = "eventops-checkin-sent-";
  const SENT_LOCK_MS = 60 * 1000;
  function markSent(nonce) {
    if (!navigator.locks) return;
    navigator.locks.request(SENT_LOCK + nonce, () => new Promise((done) => setTimeout(done, SENT_LOCK_MS)));
  }
  async function sentElsewhere(nonce) {
    if (!navigator.locks || !navigator.locks.query) return false;
    const locks = await navigator.locks.query();
    return [...locks.held, ...locks.pending].some((lock) => lock.name === SENT_LOCK + nonce);
  }

  async function sendNow(entry, show) {
    const nonce = entry.body.nonce;
    if (!isQueued(nonce)) return "sent"; // another tab had it answered a moment ago
    if (await sentElsewhere(nonce)) return "sent"; // its own tab forgets it; this one hears of it soon
    inFlight.add(nonce);
    if (channel) channel.postMessage({ sending: nonce });
    let response, body = "";
    try {
      response = await post(entry);
      if (response.status === 400 && !response.redirected && await newCsrfToken()) response = await post(entry);
      body = await response.text();
    } catch (e) {
      response = null;
    } finally {
      inFlight.delete(nonce);
      if (channel) channel.postMessage({ sent: nonce });
    }
    if (!response) { // no network: keep it, however long it takes, and answer from the tablet's list
      setOnline(false);
      if (show) {
        update(nonce, (e) => { e.body.offline = 1; });
        entry.body.offline = 1;
        answerOffline(entry);
      }
      return "kept";
    }
    setOnline(true);
    if (RESEND.has(response.status)) {
      // The gateway is up but a service is not; the server's own words say which.
      if (show) showBanner(body.includes("data-outcome") ? body : null, "unavailable", text.msgOffline);
      if (countUnavailable(nonce) >= MAX_UNAVAILABLE_ANSWERS) drop(entry, text.msgGaveUp);
      return "kept";
    }
    if (response.status === 401 || response.status === 403) {
      showLoggedOut(); // whether or not this entry was shown: the whole screen has stopped working
      return "stopped";
    }
    // 400 is the CSRF check (even with a fresh token); a redirect is the login page: both need a reload,
    // and the scan waits for it.
    if (response.status === 400 || response.redirected) {
      if (show) showBanner(null, "error", text.msgReload);
      return "stopped";
    }
    // Any other answer is final: a record (2xx), or a refusal or failure on this very input, which sending
    // again would only repeat (4xx, 500): dropped, and listed if nobody saw the banner saying so.
    const outcome = response.headers.get("X-Checkin-Outcome");
    const participantId = Number(response.headers.get("X-Checkin-Participant")) || entry.body.participant_id;
    if (["checked_in", "already_checked_in"].includes(outcome)) noteChecked(participantId, true);
    if (outcome === "undo") noteChecked(participantId, false);
    markSent(nonce);
    if (entry.body.offline) replayed(entry, body, outcome);
    if (response.ok || show || entry.body.offline) forget(nonce);
    else drop(entry, wordsOf(body) || `HTTP ${response.status}`);
    if (show) showBanner(body, "error", "");
    else if (loadQueue().length === 0 && banner.querySelector('[data-outcome="unavailable"], [data-provisional]')) {
      showBanner(null, "sent", text.msgSent); // the «no connection» banner would be stale now
    }
    const trigger = response.headers.get("HX-Trigger");
    if (trigger && show) announce(trigger);
    else if (trigger) announceSoon(trigger);
    return "sent";
  }

  // The counters and the log reload when a check-in is recorded. A queue drained after a reconnection
  // records hundreds in a row: they reload once a second then, not once per scan beside the scans themselves.
  const announcing = new Set();
  function announce(trigger) { document.body.dispatchEvent(new CustomEvent(trigger, { bubbles: true })); }
  function announceSoon(trigger) {
    if (announcing.has(trigger)) return;
    announcing.add(trigger);
    setTimeout(() => { announcing.delete(trigger); announce(trigger); }, 1000);
  }

  function post(entry) {
    return fetch(entry.url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(entry.body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken, "HX-Request": "true" },
    });
  }

  // A page open since the morning, or reloaded offline from the service worker's copy, may hold a token
  // the server no longer takes: a fresh one is asked for, and the queue is sent with it.
  async function newCsrfToken() {
    try {
      const response = await fetch(root.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok || response.redirected) return false;
      const fresh = (await response.json()).csrf_token;
      if (!fresh || fresh === csrfToken) return false;
      csrfToken = fresh;
      return true;
    } catch (e) {
      return false;
    }
  }

  // What the server decided for a scan made offline, in the words of its own banner (which agree with the
  // person): «Иванова Анна — отмечена», «Петров Пётр — уже отмечен (в 10:05, отметил(а): …)».
  function replayed(entry, body, outcome) {
    const answer = new DOMParser().parseFromString(body || "", "text/html");
    const part = (selector) => {
      const element = answer.querySelector(selector);
      return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
    };
    const title = part(".banner-title") || wordsOf(body) || text.msgNotRecorded;
    const detail = outcome === "checked_in" ? "" : part(".banner-detail");
    const item = {
      what: part(".banner-name") || entry.label || entry.body.code || `${text.msgDroppedTap} ${entry.body.participant_id}`,
      at: entry.body.scanned_at,
      outcome: outcome || "error",
      words: title.charAt(0).toLocaleLowerCase() + title.slice(1) + (detail ? ` (${detail})` : ""),
    };
    localStorage.setItem(REPLAYED_KEY, JSON.stringify([item, ...readList(REPLAYED_KEY)].slice(0, REPLAYED_SHOWN)));
    showReplayed();
  }

  // --- sending what waits, from one tab at a time ---------------------------------------------------------
  async function flush() {
    if (loggedOut || draining || !online) return;
    draining = true;
    try {
      if (navigator.locks) {
        await navigator.locks.request(DRAIN_LOCK, { ifAvailable: true }, (lock) => (lock ? drain() : null));
      } else if (takeLease()) {
        await drain();
      }
    } finally {
      draining = false;
    }
  }
  async function drain() {
    const queue = loadQueue();
    for (const entry of queue) {
      if (Date.now() - Date.parse(entry.body.scanned_at) > MAX_AGE_MS) drop(entry, text.msgGaveUp);
    }
    const waiting = loadQueue();
    let next = 0, stop = false;
    async function worker() {
      while (!stop && next < waiting.length) {
        const entry = waiting[next];
        next += 1;
        const result = await send(entry, false);
        if (result === "stopped" || (result === "kept" && !online)) stop = true;
        if (!navigator.locks) takeLease();
      }
    }
    await Promise.all(Array.from({ length: DRAIN_PARALLEL }, worker));
  }
  // Without Web Locks: the tab that holds an unexpired lease in localStorage is the one that drains.
  function takeLease() {
    let lease = null;
    try { lease = JSON.parse(localStorage.getItem(LEASE_KEY)); } catch (e) { lease = null; }
    if (lease && lease.tab !== TAB && lease.until > Date.now()) return false;
    localStorage.setItem(LEASE_KEY, JSON.stringify({ tab: TAB, until: Date.now() + 3 * RETRY_MS }));
    return true;
  }
  if (channel) {
    channel.onmessage = (event) => {
      if (event.data.sending) othersSending.add(event.data.sending);
      if (event.data.sent) othersSending.delete(event.data.sent);
    };
  }
  // Another tab changed the queue or the lists: show what is true now.
  window.addEventListener("storage", (event) => {
    if (event.key === QUEUE_KEY) showPending();
    if (event.key === REPLAYED_KEY) showReplayed();
    if (event.key === DROPPED_KEY) showDropped();
  });

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
  document.body.addEventListener("htmx:sendError", () => setOnline(false));

  // --- what the staff member sees and hears ---------------------------------------------------------
  function showBanner(html, fallbackKind, fallbackText) {
    if (html && html.includes("data-outcome")) {
      banner.innerHTML = html;
    } else {
      // Not our banner (an error page fragment, or nothing at all): show its words in a plain red one.
      const words = fallbackText || wordsOf(html);
      const tone = { unavailable: "warn", sent: "info" }[fallbackKind] || "bad";
      banner.replaceChildren(bannerBox(fallbackKind, tone, tone === "info" ? "✔" : "⚠", words, "", ""));
    }
    flash();
  }
  function bannerBox(kind, tone, icon, title, name, detail) {
    const box = document.createElement("div");
    box.className = `banner banner-${tone} outcome-${kind}`;
    box.dataset.outcome = kind;
    box.setAttribute("role", "alert");
    box.innerHTML = `<span class="banner-icon" aria-hidden="true">${icon}</span>`
      + '<div><strong class="banner-title"></strong></div>';
    box.querySelector("strong").textContent = title;
    for (const [words, className] of [[name, "banner-name"], [detail, "banner-detail"]]) {
      if (!words) continue;
      const span = document.createElement("span");
      span.className = className;
      span.textContent = words;
      box.querySelector("div").appendChild(span);
    }
    return box;
  }
  function flash() {
    const shown = banner.querySelector("[data-outcome]");
    shown.classList.add("banner-new"); // a short flash, so the same outcome twice is still noticed
    setTimeout(() => shown.classList.remove("banner-new"), 400);
    if (shown.dataset.outcome !== "sent") beep(shown.dataset.outcome);
  }

  // The answer of the tablet's own list while the server cannot be asked; the server's comes later.
  async function answerOffline(entry) {
    const fields = entry.body;
    if (!participants || !fields.day) { // an undo, or no list on this tablet yet: only «saved»
      showBanner(null, "unavailable", text.msgOffline);
      return;
    }
    const person = fields.participant_id
      ? participants.byId.get(fields.participant_id) : await participants.find(fields.code || "");
    if (person && !entry.label) update(fields.nonce, (e) => { e.label = person.name; });
    const verb = (key) => text[`${key}${person && person.gender === "female" ? "Female" : person && person.gender === "male" ? "Male" : ""}`];
    let kind, tone, icon, title;
    if (!person) {
      [kind, tone, icon, title] = ["unknown_code", "bad", "✖", text.msgOfflineUnknown];
    } else if (person.status === "cancelled") {
      [kind, tone, icon, title] = ["cancelled", "bad", "⊘", text.msgOfflineCancelled];
    } else if (checkedHere().has(person.id)) {
      [kind, tone, icon, title] = ["already_checked_in", "warn", "⟳", verb("msgOfflineAlready")];
    } else {
      noteChecked(person.id, true);
      [kind, tone, icon, title] = ["checked_in", "ok", "✔", verb("msgOfflineChecked")];
    }
    const box = bannerBox(kind, tone, icon, title, person ? person.name : clean(fields.code).slice(0, 60), text.msgOffline);
    box.dataset.provisional = "1";
    banner.replaceChildren(box);
    flash();
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

  // --- the search field: always focused; Enter after a code means «a scanner just typed it» ----------
  let searchTimer = null, searchAbort = null, searchTurn = 0;
  function refocus() {
    const active = document.activeElement;
    const elsewhere = active && active !== input && ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName);
    if (!elsewhere && !cameraOpen) input.focus({ preventScroll: true });
  }
  function stopSearch() {
    clearTimeout(searchTimer);
    searchTurn += 1; // an answer on its way belongs to text no longer in the field
    if (searchAbort) searchAbort.abort();
  }
  function clearSearch() {
    stopSearch();
    input.value = "";
    results.innerHTML = "";
  }
  // The server while it answers (it stays the truth), the tablet's list when it does not.
  async function search(query) {
    stopSearch();
    const turn = searchTurn;
    if (query.length < 2) { results.innerHTML = ""; return; }
    if (!online) { showLocalResults(query); return; }
    searchAbort = new AbortController();
    const params = new URLSearchParams({ q: query, day: root.dataset.day, session_id: root.dataset.sessionId || "" });
    try {
      const response = await fetch(`${root.dataset.searchUrl}?${params}`, {
        credentials: "same-origin", headers: { "HX-Request": "true" }, signal: searchAbort.signal,
      });
      const html = await response.text();
      if (turn !== searchTurn) return;
      if (response.status === 401 || response.status === 403) { showLoggedOut(); return; }
      if (RESEND.has(response.status) && participants) { showLocalResults(query); return; }
      setOnline(true);
      results.innerHTML = html;
    } catch (e) {
      if (e.name === "AbortError" || turn !== searchTurn) return;
      setOnline(false);
      showLocalResults(query);
    }
  }
  function showLocalResults(query) {
    const message = (words) => {
      const p = document.createElement("p");
      p.className = "muted results-empty";
      p.textContent = words;
      results.replaceChildren(p);
    };
    if (!participants) { message(text.msgNoIndex); return; }
    const found = participants.search(query);
    if (!found.length) { message(text.msgNobodyOffline.replace("{query}", query)); return; }
    const list = document.createElement("ul");
    list.className = "result-list";
    for (const person of found) {
      const form = document.createElement("form");
      form.className = "result-form";
      form.innerHTML = '<input type="hidden" name="participant_id"><button class="result-row">'
        + '<span class="result-name"></span><span class="result-meta"></span><span class="result-status"></span></button>';
      form.querySelector("input").value = person.id;
      const row = form.querySelector("button");
      row.classList.add(`status-${person.status}`);
      row.dataset.participantId = person.id;
      row.querySelector(".result-name").textContent = person.name;
      row.querySelector(".result-meta").textContent = person.meta || "";
      const status = { cancelled: text.msgStatusCancelled, confirmed: text.msgStatusConfirmed }[person.status]
        || text.msgStatusRegistered;
      row.querySelector(".result-status").textContent = `${status} · ${person.code}`;
      const li = document.createElement("li");
      li.appendChild(form);
      list.appendChild(li);
    }
    results.replaceChildren(list);
  }
  function isCode(typed) {
    return participants ? participants.isCode(typed) : (Index ? Index.tokenIn(typed) || Index.looksScanned(typed) : true);
  }
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const query = input.value.trim();
    searchTimer = setTimeout(() => search(query), online ? 150 : 0);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const typed = input.value.trim();
    if (!typed) return;
    if (!isCode(typed)) { search(typed); return; } // a name: found and tapped, never sent as a code
    // Cleared before anything else: the scanner's next burst of keys starts in an empty field.
    clearSearch();
    scan({ code: typed });
  });
  input.addEventListener("blur", () => setTimeout(refocus, 300));
  document.getElementById("search-form").addEventListener("submit", (event) => event.preventDefault());

  // A tap on a search result checks that person in.
  results.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = Number(event.target.querySelector("[name=participant_id]").value);
    const name = event.target.querySelector(".result-name");
    clearSearch();
    scan({ participant_id: id }, name ? name.textContent.trim() : "");
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
  cameraButton.hidden = false; // where the camera cannot work, the button says why

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
  // What went wrong with the camera, and what to do about it, by the browser's name for it.
  function cameraProblem(error) {
    const name = (error && error.name) || "";
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return text.msgCameraDenied;
    if (["NotFoundError", "OverconstrainedError", "DevicesNotFoundError"].includes(name)) return text.msgCameraMissing;
    if (["NotReadableError", "TrackStartError", "AbortError"].includes(name)) return text.msgCameraBusy;
    return text.msgCameraError;
  }
  cameraButton.addEventListener("click", async () => {
    // Browsers give the camera to secure pages only (HTTPS, or the laptop itself).
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showBanner(null, "camera", text.msgCameraInsecure);
      return;
    }
    cameraOpen = true;
    cameraBox.hidden = false;
    try {
      // Asked here first, so that a refusal arrives as the browser's own error and can be told apart.
      const probe = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      probe.getTracks().forEach((track) => track.stop());
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
      showBanner(null, "camera", cameraProblem(e));
    }
  });
  async function closeCamera() {
    cameraOpen = false;
    cameraBox.hidden = true;
    if (camera && camera.isScanning) await camera.stop().catch(() => {});
    refocus();
  }
  document.getElementById("camera-close").addEventListener("click", closeCamera);

  // --- the participant list, the service worker, resending -----------------------------------------
  function pageFiles() {
    const files = [...document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon]")]
      .map((element) => element.src || element.href);
    return [...files, root.dataset.qrLibrary];
  }
  async function refreshIndex() {
    if (!kept) { setOnline(true); return; } // no list to ask for: let the queue find out
    const result = await kept.refresh();
    if (result === "unreachable") setOnline(false);
    else if (result === "same" || result === "changed") setOnline(true);
  }
  if (kept) {
    kept.onchange = (index) => { participants = index; root.dataset.indexSize = index.size; };
    kept.open().then(refreshIndex);
    setInterval(() => { if (online) refreshIndex(); }, INDEX_REFRESH_MS);
  }
  // Offline, a small question every few seconds tells when the server is back (a 304 of the list).
  setInterval(() => { if (!online) refreshIndex(); }, RETRY_MS);
  if ("serviceWorker" in navigator && root.dataset.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.kept) root.dataset.offlineReady = "1"; // a reload offline will open
    });
    navigator.serviceWorker.register(root.dataset.serviceWorker, { scope: root.dataset.serviceWorkerScope })
      .then((registration) => {
        const worker = registration.active || registration.waiting || registration.installing;
        const ask = (active) => active.postMessage({ keep: [location.href, ...pageFiles()] });
        if (worker && worker.state === "activated") ask(worker);
        else if (worker) worker.addEventListener("statechange", () => { if (worker.state === "activated") ask(worker); });
      })
      .catch(() => { /* no reload offline on this browser; everything else still works */ });
  }
  window.addEventListener("online", () => refreshIndex());
  window.addEventListener("offline", () => setOnline(false));
  setInterval(flush, RETRY_MS);
  showConnection();
  showPending();
  showDropped();
  showReplayed();
  document.getElementById("dropped-clear").addEventListener("click", () => {
    localStorage.removeItem(DROPPED_KEY);
    showDropped();
  });
  document.getElementById("replayed-clear").addEventListener("click", () => {
    localStorage.removeItem(REPLAYED_KEY);
    showReplayed();
  });
  flush(); // what an earlier page (or a reload after «Reload the page») left unsent
  refocus();
  // Scans typed before this point went to the server as a plain search (the form works without this file).
  root.dataset.ready = "1";
})();
