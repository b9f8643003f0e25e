// The check-in screen's own copy of the event's participants, so that it goes on when the Wi-Fi drops:
// kept in IndexedDB (it survives a reload and a browser restart), refreshed with its ETag (a 304 when
// nothing changed), and searched here with the server's rules. The search text comes folded from the server
// (services/registration/checkin_index.py); only what staff type is folded here, by a port of
// services/registration/text.py that one table of cases tests on both sides (tests/browser/test_checkin_offline.py).
// No framework, no build step: checkin.js reads window.EventOpsCheckinIndex.
(() => {
  "use strict";

  // --- folding: text.py's fold, fold_for_search and fold_code, rule for rule ---------------------------
  const LATIN_TWINS = "AaBCcEeHKkMOoPpTXxYy";
  const CYRILLIC_TWINS = "АаВСсЕеНКкМОоРрТХхУу";
  const LOOKALIKES = new Map(); // folded text is lower case: Latin look-alike → its Cyrillic twin
  const TO_LATIN = new Map(); // a code typed with Cyrillic twins → the Latin letters it is stored in
  for (let i = 0; i < LATIN_TWINS.length; i += 1) {
    LOOKALIKES.set(LATIN_TWINS[i].toLowerCase(), CYRILLIC_TWINS[i].toLowerCase());
    TO_LATIN.set(CYRILLIC_TWINS[i], LATIN_TWINS[i]);
  }
  const CYRILLIC = /[а-яё]/;
  // Python's str.split() whitespace, not JavaScript's \s (which differs in \x1c-\x1f, \x85 and \ufeff)
  const SPACES = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
  const WORD_SEPARATORS = /[«»“”„"'()[\]{},;/\\\-–—]/g;

  function words(text) { return text.split(SPACES).filter(Boolean); }
  // str.casefold(): lower case, and the two foldings a name may meet that toLowerCase() does not make
  function casefold(text) { return text.toLowerCase().replace(/ß/g, "ss").replace(/ς/g, "σ"); }
  function foldWord(word) {
    return CYRILLIC.test(word) ? Array.from(word, (c) => LOOKALIKES.get(c) || c).join("") : word;
  }
  function fold(text) {
    if (!text) return "";
    return words(casefold(text.normalize("NFC")).replace(/ё/g, "е")).map(foldWord).join(" ");
  }
  function foldForSearch(text) { return fold((text || "").replace(WORD_SEPARATORS, " ")); }
  function foldCode(text) {
    if (!text) return "";
    return Array.from(words(text).join("").toUpperCase(), (c) => TO_LATIN.get(c) || c).join("");
  }

  // --- what was typed or scanned: a code, a personal-page URL, a token, or a name ----------------------
  const PERSONAL_PAGE_URL = /\/p\/([A-Za-z0-9_-]+)\/?$/; // search.py's: <PUBLIC_URL>/p/<token>
  const TOKEN = /^[A-Za-z0-9_-]{32,}$/; // models.new_personal_token: 43 characters
  // A badge code as a scanner types it: capitals, digits and marks, no space. Staff typing a name use lower
  // case or Cyrillic; a code typed by hand in lower case is still a code when the list has it.
  const CODE_AS_SCANNED = /^[\x21-\x7e]{4,}$/;
  const NAME_LETTER = /[a-zа-яё]/;
  const SUBSTRING_MIN_LENGTH = 3; // search.py: a shorter word matches the start of a word only
  const CODE = /^[0-9A-Z]{4,12}$/;

  function tokenIn(text) {
    const found = PERSONAL_PAGE_URL.exec(text.trim().split("?")[0].split("#")[0]);
    return found ? found[1] : null;
  }

  // --- the index in memory ---------------------------------------------------------------------------
  class ParticipantIndex {
    constructor(data) {
      const at = Object.fromEntries(data.fields.map((name, i) => [name, i]));
      this.version = data.version;
      this.people = data.items.map((item, order) => ({
        id: item[at.id], name: item[at.name], search: item[at.search], code: item[at.code],
        tokenHash: item[at.token_hash], status: item[at.status], gender: item[at.gender], meta: item[at.meta],
        nameKey: foldForSearch(item[at.name]), order,
      }));
      this.byId = new Map(this.people.map((p) => [p.id, p]));
      this.byCode = new Map(this.people.map((p) => [p.code, p]));
      this.byTokenHash = new Map(this.people.map((p) => [p.tokenHash, p]));
      this.tokenHashLength = this.people.length ? this.people[0].tokenHash.length : 16;
    }

    get size() { return this.people.length; }

    // search.search_participants: every folded word in the search text (a short one at a word's start),
    // or the code; the exact code first, then a surname prefix, a name prefix, the rest, in the list's order
    search(query, limit = 20) {
      if (query.trim().length < 2) return [];
      const folded = foldForSearch(query);
      const code = foldCode(query);
      const needles = words(folded).map((w) => (w.length >= SUBSTRING_MIN_LENGTH ? w : ` ${w}`));
      const codeNeedle = CODE.test(code) ? code.toLowerCase() : null;
      const found = [];
      for (const person of this.people) {
        const matches = needles.every((n) => person.search.includes(n))
          || (codeNeedle !== null && person.search.includes(codeNeedle));
        if (!matches) continue;
        let rank = 3;
        if (codeNeedle !== null && person.code === code) rank = 0;
        else if (person.nameKey.startsWith(folded)) rank = 1;
        else if (person.nameKey.includes(` ${folded}`)) rank = 2;
        found.push({ rank, person });
      }
      found.sort((a, b) => a.rank - b.rank || a.person.order - b.person.order);
      return found.slice(0, limit).map((f) => f.person);
    }

    // Whether Enter after `text` means «a scanner read a badge»: never true for a name typed by staff.
    isCode(text) {
      const typed = text.trim();
      if (tokenIn(typed) || TOKEN.test(typed)) return true;
      if (this.byCode.has(foldCode(typed))) return true;
      return looksScanned(typed);
    }

    // search.look_up: a personal-page URL or token (recognised by its hash), else a badge code.
    async find(text) {
      const typed = text.trim();
      const token = tokenIn(typed);
      if (token) return this.byTokenHash.get(await this.hashOf(token)) || null;
      return this.byCode.get(foldCode(typed)) || this.byTokenHash.get(await this.hashOf(typed)) || null;
    }

    async hashOf(token) { return (await sha256Hex(token)).slice(0, this.tokenHashLength); }
  }

  function looksScanned(text) { return CODE_AS_SCANNED.test(text) && !NAME_LETTER.test(text); }

  // --- SHA-256: the browser's where it has one (only secure pages do), else a small one of our own -----
  async function sha256Hex(text) {
    const bytes = new TextEncoder().encode(text);
    if (window.crypto && crypto.subtle) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    return sha256Fallback(bytes);
  }
  function sha256Fallback(bytes) { // FIPS 180-4, for a plain-http venue laptop
    const K = [];
    const H = [];
    const frac = (x) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
    for (let n = 2, found = 0; found < 64; n += 1) {
      let prime = true;
      for (let d = 2; d * d <= n; d += 1) if (n % d === 0) { prime = false; break; }
      if (!prime) continue;
      if (found < 8) H.push(frac(n ** 0.5));
      K.push(frac(n ** (1 / 3)));
      found += 1;
    }
    const length = bytes.length;
    const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 4, (length * 8) >>> 0);
    view.setUint32(padded.length - 8, Math.floor((length * 8) / 2 ** 32));
    const w = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let block = 0; block < padded.length; block += 64) {
      for (let i = 0; i < 16; i += 1) w[i] = view.getUint32(block + i * 4);
      for (let i = 16; i < 64; i += 1) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let i = 0; i < 64; i += 1) {
        const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
      }
      [a, b, c, d, e, f, g, h].forEach((x, i) => { H[i] = (H[i] + x) >>> 0; });
    }
    return H.map((x) => x.toString(16).padStart(8, "0")).join("");
  }

  // --- IndexedDB: one store, the index of each event under its id --------------------------------------
  const DATABASE = "eventops-checkin";
  const STORE = "indexes";
  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function stored(key, value) {
    const database = await openDatabase();
    try {
      return await new Promise((resolve, reject) => {
        const transaction = database.transaction(STORE, value === undefined ? "readonly" : "readwrite");
        const store = transaction.objectStore(STORE);
        const request = value === undefined ? store.get(key) : store.put(value, key);
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = () => reject(transaction.error);
        transaction.onabort = () => reject(transaction.error);
      });
    } finally {
      database.close();
    }
  }

  // The screen's index: what IndexedDB holds at once, then whatever the server has that is newer.
  class KeptIndex {
    constructor(eventId, url) {
      this.key = `event-${eventId}`;
      this.url = url;
      this.current = null;
      this.etag = null;
      this.onchange = () => {};
    }

    async open() {
      try {
        const kept = await stored(this.key);
        if (kept && !this.current) this.use(kept);
      } catch (e) { /* private mode or no IndexedDB: the screen still works online */ }
      return this.current;
    }

    // Resolves to "changed", "same" (304) or "unreachable" (no network, or the gateway cannot ask
    // registration); throws nothing, so a failed refresh never stops the screen.
    async refresh() {
      let response;
      try {
        response = await fetch(this.url, {
          credentials: "same-origin",
          cache: "no-store",
          headers: this.etag ? { "If-None-Match": this.etag } : {},
        });
      } catch (e) {
        return "unreachable";
      }
      if (response.status === 304) return "same";
      if (!response.ok || response.redirected) return response.status >= 500 ? "unreachable" : "refused";
      const data = await response.json();
      const kept = { etag: response.headers.get("ETag"), data, savedAt: new Date().toISOString() };
      try { await stored(this.key, kept); } catch (e) { /* kept in memory for this page at least */ }
      this.use(kept);
      return "changed";
    }

    use(kept) {
      this.etag = kept.etag;
      this.current = new ParticipantIndex(kept.data);
      this.onchange(this.current);
    }
  }

  window.EventOpsCheckinIndex = {
    fold, foldForSearch, foldCode, tokenIn, sha256Hex, sha256Fallback, looksScanned, ParticipantIndex, KeptIndex,
  };
})();
