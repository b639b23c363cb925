// The citizen app's browser wallet (WAL, issue 17): a holder of the council's cards, in this browser only.
// No framework, no build step. The holder's keys are WebCrypto ECDSA P-256 keys made NOT extractable and kept
// in IndexedDB (a CryptoKey is stored as an object: its private part never exists as bytes the page can read),
// one key per copy of a card, so that two presentations of the same card cannot be linked by the key.
//  - OpenID4VCI 1.0, pre-authorized code flow: the offer the page hands over (data-offer), the issuer's metadata
//    (§12.2.2) and its OAuth metadata, the token with the transaction code the person types (§6.1), a c_nonce
//    (§7), and one credential per key proof in a batch (§8.2, proofs.jwt; §F.1 openid4vci-proof+jwt).
//  - SD-JWT VC (RFC 9901): the claims read back from the disclosures (§4.2), a presentation with only the asked
//    disclosures (and those enclosing them, §4.2.6) and a key-binding JWT (§4.3: typ kb+jwt, aud, nonce, iat,
//    sd_hash = base64url(SHA-256(the presentation up to its last "~"))).
//  - OpenID4VP 1.0: a request by value (client_id prefix redirect_uri, §5.9.3), a DCQL query (§6), and the
//    answer by direct_post (§8.2: vp_token = {"<credential query id>": ["<presentation>"]}, state).
// ES256 (RFC 7518 §3.4): WebCrypto's ECDSA signature is already r||s, the JOSE form. Every message comes from the
// page (data-texts, in the person's language); progress and errors are said in the aria-live region.
"use strict";
(function () {
  var PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
  var REGISTERED = ["iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "_sd_alg", "sub"];
  var DB_NAME = "pic-wallet";

  // ---- bytes and JOSE ---------------------------------------------------------------------------------------

  function utf8(text) { return new TextEncoder().encode(text); }

  function b64url(bytes) {
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64urlText(text) {
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    padded += "===".slice((padded.length + 3) % 4);
    var binary = atob(padded);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return new TextDecoder().decode(bytes);
  }

  function jsonPart(value) { return b64url(utf8(JSON.stringify(value))); }

  async function sha256(text) {
    return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text))));
  }

  async function signJwt(header, payload, privateKey) {
    var input = jsonPart(header) + "." + jsonPart(payload);
    var signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, utf8(input));
    return input + "." + b64url(new Uint8Array(signature));
  }

  function payloadOf(jws) { return JSON.parse(b64urlText(jws.split(".")[1])); }

  function randomId() { return b64url(crypto.getRandomValues(new Uint8Array(16))); }

  function now() { return Math.floor(Date.now() / 1000); }

  // ---- IndexedDB: "keys" (id, privateKey, jwk) and "credentials" (id, batch, keyId, sdJwt, ...) -------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("keys", { keyPath: "id" });
        request.result.createObjectStore("credentials", { keyPath: "id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  async function inStore(store, mode, work) {
    var db = await openDb();
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(store, mode);
      var request = work(tx.objectStore(store));
      tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
      tx.onerror = function () { db.close(); reject(tx.error); };
      tx.onabort = function () { db.close(); reject(tx.error); };
    });
  }

  function all(store) { return inStore(store, "readonly", function (s) { return s.getAll(); }); }
  function one(store, id) { return inStore(store, "readonly", function (s) { return s.get(id); }); }
  function put(store, value) { return inStore(store, "readwrite", function (s) { return s.put(value); }); }
  function remove(store, id) { return inStore(store, "readwrite", function (s) { return s.delete(id); }); }

  async function newKey() {
    // extractable false: the private key can sign and be stored, never be exported (the public half always can)
    var pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    var full = await crypto.subtle.exportKey("jwk", pair.publicKey);
    var jwk = { kty: full.kty, crv: full.crv, x: full.x, y: full.y };
    var key = { id: randomId(), privateKey: pair.privateKey, jwk: jwk };
    await put("keys", key);
    return key;
  }

  // ---- SD-JWT: disclosures and the claims they reveal -------------------------------------------------------

  function splitSdJwt(sdJwt) {
    var parts = sdJwt.split("~");
    return { jws: parts[0], disclosures: parts.slice(1, -1), kb: parts[parts.length - 1] };
  }

  // Each disclosure with the path of the claim it discloses and the claims in full (RFC 9901 §7.1's walk).
  async function readSdJwt(sdJwt) {
    var split = splitSdJwt(sdJwt);
    var byDigest = {};
    for (var i = 0; i < split.disclosures.length; i++) {
      byDigest[await sha256(split.disclosures[i])] = split.disclosures[i];
    }
    var found = [];
    function walk(value, path) {
      if (Array.isArray(value)) {
        return value.map(function (member, index) {
          if (member && typeof member === "object" && Object.keys(member).length === 1 && "..." in member) {
            var hidden = byDigest[member["..."]];
            if (!hidden) { return undefined; }
            var element = JSON.parse(b64urlText(hidden));
            found.push({ disclosure: hidden, path: path.concat([index]) });
            return walk(element[1], path.concat([index]));
          }
          return walk(member, path.concat([index]));
        }).filter(function (member) { return member !== undefined; });
      }
      if (value && typeof value === "object") {
        var out = {};
        Object.keys(value).forEach(function (name) {
          if (name !== "_sd") { out[name] = walk(value[name], path.concat([name])); }
        });
        (value._sd || []).forEach(function (digest) {
          var hidden = byDigest[digest];
          if (!hidden) { return; }
          var parts = JSON.parse(b64urlText(hidden));
          found.push({ disclosure: hidden, path: path.concat([parts[1]]) });
          out[parts[1]] = walk(parts[2], path.concat([parts[1]]));
        });
        return out;
      }
      return value;
    }
    var payload = payloadOf(split.jws);
    var claims = walk(payload, []);
    REGISTERED.forEach(function (name) { delete claims[name]; });
    return { payload: payload, claims: claims, disclosures: found, jws: split.jws };
  }

  // The claims as [path, value] leaves: {"age_equal_or_over": {"65": true}} is ["age_equal_or_over.65", true].
  function leaves(value, prefix, out) {
    if (value && typeof value === "object") {
      Object.keys(value).forEach(function (name) { leaves(value[name], prefix.concat([name]), out); });
    } else {
      out.push([prefix.join("."), value]);
    }
    return out;
  }

  function startsWith(path, prefix) {
    if (prefix.length > path.length) { return false; }
    for (var i = 0; i < prefix.length; i++) {
      if (path[i] !== null && String(path[i]) !== String(prefix[i])) { return false; }
    }
    return true;
  }

  function has(claims, path) {
    var value = claims;
    for (var i = 0; i < path.length; i++) {
      if (value === null || typeof value !== "object" || !(String(path[i]) in value)) { return false; }
      value = value[String(path[i])];
    }
    return true;
  }

  // The presentation of one credential disclosing only the claims at `paths` (and the disclosures that enclose
  // them), bound to this verifier and request by a key-binding JWT signed with the copy's key.
  async function present(credential, paths, audience, nonce) {
    var read = await readSdJwt(credential.sdJwt);
    var chosen = read.disclosures.filter(function (d) {
      return paths.some(function (wanted) { return startsWith(wanted, d.path); });
    }).map(function (d) { return d.disclosure; });
    var presented = [read.jws].concat(chosen).join("~") + "~";
    var key = await one("keys", credential.keyId);
    if (!key) { throw new Error("the key of this copy is missing"); }
    var kb = await signJwt({ alg: "ES256", typ: "kb+jwt" },
      { iat: now(), aud: audience, nonce: nonce, sd_hash: await sha256(presented) }, key.privateKey);
    return presented + kb;
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------

  function allowed(url, texts) {
    var origin = new URL(url).origin;
    return origin === window.location.origin || (texts.origins || []).indexOf(origin) !== -1;
  }

  async function call(url, options, texts) {
    if (!allowed(url, texts)) { throw new Error(say(texts, "link_not_allowed", { origin: new URL(url).origin })); }
    var answer;
    try {
      answer = await fetch(url, Object.assign({ credentials: "omit", cache: "no-store" }, options));
    } catch (error) {
      throw new Error(say(texts, "network"));
    }
    var body = {};
    try { body = await answer.json(); } catch (error) { body = {}; }
    if (!answer.ok) {
      // OAuth's error (RFC 6749 §5.2) and the problem's detail (RFC 9457), as the issuer answers both
      var why = body.error_description || body.detail || body.title || body.error || String(answer.status);
      var failure = new Error(why);
      failure.slug = body.reason || body.error || String(body.type || "").split("/").pop();
      throw failure;
    }
    return body;
  }

  function getJson(url, texts) { return call(url, { method: "GET", headers: { Accept: "application/json" } }, texts); }

  function postForm(url, fields, texts) {
    return call(url, { method: "POST", body: new URLSearchParams(fields),
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" } }, texts);
  }

  function postJson(url, body, token, texts) {
    var headers = { Accept: "application/json" };
    if (body !== null) { headers["Content-Type"] = "application/json"; }  // the nonce request has no body (§7.1)
    if (token) { headers.Authorization = "Bearer " + token; }
    var sent = body === null ? undefined : JSON.stringify(body);
    return call(url, { method: "POST", body: sent, headers: headers }, texts);
  }

  // RFC 8414 §3.1 / OpenID4VCI §12.2.2: the well-known segment goes between the host and the path.
  function wellKnown(identifier, name) {
    var url = new URL(identifier);
    return url.origin + "/.well-known/" + name + (url.pathname === "/" ? "" : url.pathname.replace(/\/$/, ""));
  }

  // ---- OpenID4VCI: accepting an offer ------------------------------------------------------------------------

  async function accept(offer, txCode, copies, texts) {
    var issuer = offer.credential_issuer;
    var grant = (offer.grants || {})[PRE_AUTHORIZED];
    var configurationId = (offer.credential_configuration_ids || [])[0];
    if (!issuer || !grant || !configurationId) { throw new Error("the offer is not a pre-authorized code offer"); }
    var metadata = await getJson(wellKnown(issuer, "openid-credential-issuer"), texts);
    if (metadata.credential_issuer !== issuer) { throw new Error("the issuer's metadata names another issuer"); }
    var server = (metadata.authorization_servers || [issuer])[0];
    var oauth = await getJson(wellKnown(server, "oauth-authorization-server"), texts);
    var token = await postForm(oauth.token_endpoint,
      { grant_type: PRE_AUTHORIZED, "pre-authorized_code": grant["pre-authorized_code"], tx_code: txCode }, texts);
    var nonce = (await postJson(metadata.nonce_endpoint, null, "", texts)).c_nonce;
    var batch = (metadata.batch_credential_issuance || {}).batch_size || 1;
    var count = Math.max(1, Math.min(copies, batch));
    var keys = [];
    for (var i = 0; i < count; i++) { keys.push(await newKey()); }
    var proofs = [];
    for (var j = 0; j < keys.length; j++) {
      proofs.push(await signJwt({ alg: "ES256", typ: "openid4vci-proof+jwt", jwk: keys[j].jwk },
        { aud: issuer, nonce: nonce, iat: now() }, keys[j].privateKey));
    }
    var answer = await postJson(metadata.credential_endpoint,
      { credential_configuration_id: configurationId, proofs: { jwt: proofs } }, token.access_token, texts);
    var configuration = (metadata.credential_configurations_supported || {})[configurationId] || {};
    var display = (configuration.credential_metadata || {}).display || configuration.display || [];
    var batchId = randomId();
    var stored = 0;
    var used = {};
    for (var k = 0; k < (answer.credentials || []).length; k++) {
      var sdJwt = answer.credentials[k].credential;
      var payload = payloadOf(sdJwt.split("~")[0]);
      var bound = ((payload.cnf || {}).jwk) || {};
      // each credential goes with the key its cnf names (not trusting the answer's order)
      var key = keys.filter(function (candidate) {
        return candidate.jwk.x === bound.x && candidate.jwk.y === bound.y;
      })[0];
      if (!key) { continue; }
      used[key.id] = true;
      await put("credentials", { id: randomId(), batch: batchId, keyId: key.id, sdJwt: sdJwt, vct: payload.vct,
        iss: payload.iss, exp: payload.exp, type: configurationId, display: display, shownAt: 0, receivedAt: now() });
      stored += 1;
    }
    for (var m = 0; m < keys.length; m++) {
      if (!used[keys[m].id]) { await remove("keys", keys[m].id); }
    }
    if (!stored) { throw new Error("the issuer sent no credential for these keys"); }
    return stored;
  }

  // ---- OpenID4VP: reading a request, answering it ------------------------------------------------------------

  function parseRequest(link) {
    var text = (link || "").trim();
    var query = text.indexOf("?");
    if (!/^openid4vp:/i.test(text) || query < 0) { throw new Error("openid4vp://?…"); }
    var params = new URLSearchParams(text.slice(query + 1));
    if (params.get("request_uri")) { throw new Error("request_uri"); }
    var clientId = params.get("client_id") || "";
    var responseUri = params.get("response_uri") || "";
    if (params.get("response_type") !== "vp_token") { throw new Error("response_type"); }
    if (params.get("response_mode") !== "direct_post") { throw new Error("response_mode"); }
    // OpenID4VP 1.0 §5.9.3: with the redirect_uri prefix the response goes to the very URI the client_id names
    if (clientId.indexOf("redirect_uri:") !== 0 || clientId.slice("redirect_uri:".length) !== responseUri) {
      throw new Error("client_id");
    }
    if (!/^https?:\/\//.test(responseUri)) { throw new Error("response_uri"); }
    var nonce = params.get("nonce");
    if (!nonce) { throw new Error("nonce"); }
    var dcql;
    try { dcql = JSON.parse(params.get("dcql_query") || ""); } catch (error) { throw new Error("dcql_query"); }
    var credentials = (dcql && dcql.credentials) || [];
    if (credentials.length !== 1 || credentials[0].format !== "dc+sd-jwt" || !credentials[0].id) {
      throw new Error("dcql_query");
    }
    var asked = credentials[0];
    return {
      clientId: clientId, responseUri: responseUri, nonce: nonce, state: params.get("state") || "",
      queryId: asked.id, vcts: ((asked.meta || {}).vct_values || []),
      paths: (asked.claims || []).map(function (claim) { return claim.path; }),
    };
  }

  // A held copy of the asked card that holds the asked claims: one not shown before, else the least recently shown.
  async function pick(request) {
    var candidates = [];
    var held = await all("credentials");
    for (var i = 0; i < held.length; i++) {
      var credential = held[i];
      if (request.vcts.length && request.vcts.indexOf(credential.vct) === -1) { continue; }
      if (credential.exp && credential.exp < now()) { continue; }
      var read = await readSdJwt(credential.sdJwt);
      if (request.paths.every(function (path) { return has(read.claims, path); })) { candidates.push(credential); }
    }
    candidates.sort(function (a, b) { return a.shownAt - b.shownAt; });
    return candidates[0] || null;
  }

  async function answer(request, credential) {
    var vp = await present(credential, request.paths, request.clientId, request.nonce);
    credential.shownAt = now();
    await put("credentials", credential);  // shown once sent, whatever the verifier decides
    var tokens = {};
    tokens[request.queryId] = [vp];
    var fields = { vp_token: JSON.stringify(tokens) };
    if (request.state) { fields.state = request.state; }
    return postForm(request.responseUri, fields, TEXTS_OF.present);
  }

  // ---- the page: messages, the list, the offer, the request --------------------------------------------------

  var TEXTS_OF = {};

  function say(texts, key, values) {
    var text = ((texts && texts.messages) || {})[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function announce(root, text) {
    var region = root.querySelector("#wallet-status");
    if (region) { region.textContent = text; }
  }

  function supported() {
    return !!(window.crypto && window.crypto.subtle && window.indexedDB && window.TextEncoder);
  }

  function cardName(display, texts, fallback) {
    var lang = texts.lang;
    var mine = (display || []).filter(function (d) { return (d.locale || "").slice(0, 2) === lang; });
    var shown = mine[0] || (display || [])[0];
    return (shown && shown.name) || fallback;
  }

  function refusal(texts, slug, detail) {
    return ((texts.refusals || {})[slug || ""]) || detail || slug || "";
  }

  function claimLabel(path, texts) {
    var key = path.join ? path.join(".") : path;
    return (texts.claims || {})[key] || say(texts, "unknown_claim", { path: key });
  }

  function claimValue(value, texts) {
    if (value === true) { return say(texts, "yes"); }
    if (value === false) { return say(texts, "no"); }
    return String(value);
  }

  function element(tag, text, id) {
    var made = document.createElement(tag);
    if (text !== undefined) { made.textContent = text; }
    if (id) { made.id = id; }
    return made;
  }

  async function showList(root, texts) {
    var list = root.querySelector("#browser-cards");
    var empty = root.querySelector("#browser-empty");
    var held = await all("credentials");
    var batches = {};
    held.forEach(function (credential) {
      (batches[credential.batch] = batches[credential.batch] || []).push(credential);
    });
    list.textContent = "";
    var ids = Object.keys(batches);
    empty.hidden = ids.length > 0;
    for (var i = 0; i < ids.length; i++) {
      var copies = batches[ids[i]];
      var first = copies[0];
      var read = await readSdJwt(first.sdJwt);
      var item = element("li", undefined, "browser-card-" + ids[i]);
      item.className = "card";
      item.appendChild(element("h3", cardName(first.display, texts, first.type)));
      var facts = element("dl");
      facts.className = "facts";
      leaves(read.claims, [], []).forEach(function (leaf) {
        facts.appendChild(element("dt", claimLabel(leaf[0], texts)));
        facts.appendChild(element("dd", claimValue(leaf[1], texts)));
      });
      item.appendChild(facts);
      var left = copies.filter(function (c) { return !c.shownAt; }).length;
      item.appendChild(element("p", say(texts, "copies_left", { left: left, count: copies.length })));
      if (first.exp) {
        var date = new Date(first.exp * 1000).toISOString().slice(0, 10);
        item.appendChild(element("p", say(texts, "expires", { date: date })));
      }
      var button = element("button", say(texts, "remove"), "remove-" + ids[i]);
      button.type = "button";
      button.className = "link-button";
      button.addEventListener("click", forget.bind(null, root, texts, copies));
      item.appendChild(button);
      list.appendChild(item);
    }
  }

  async function forget(root, texts, copies) {
    for (var i = 0; i < copies.length; i++) {
      await remove("credentials", copies[i].id);
      await remove("keys", copies[i].keyId);
    }
    await showList(root, texts);
    announce(root, say(texts, "removed"));
  }

  function fieldError(input, hint, text) {
    var id = input.id + "-error";
    var shown = document.getElementById(id);
    if (!text) {
      if (shown) { shown.remove(); }
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", hint);
      return;
    }
    if (!shown) {
      shown = element("p", undefined, id);
      shown.className = "field-error";
      input.parentNode.appendChild(shown);
    }
    shown.textContent = text;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", hint + " " + id);
    input.focus();
  }

  function setUpAccept(root, texts) {
    var form = root.querySelector("#accept-form");
    var input = root.querySelector("#tx-code");
    var offer = JSON.parse(root.getAttribute("data-offer"));
    var copies = parseInt(root.getAttribute("data-copies"), 10) || 1;
    var wanted = ((offer.grants || {})[PRE_AUTHORIZED] || {}).tx_code || {};
    form.hidden = false;  // hidden without this script: the code must not go anywhere but into the token request
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!code) { return fieldError(input, "tx-code-hint", say(texts, "tx_code_missing")); }
      var numeric = (wanted.input_mode || "numeric") === "numeric";
      if ((wanted.length && code.length !== wanted.length) || (numeric && !/^[0-9]+$/.test(code))) {
        return fieldError(input, "tx-code-hint", say(texts, "tx_code_format", { length: wanted.length || 6 }));
      }
      fieldError(input, "tx-code-hint", "");
      var button = form.querySelector("button");
      button.disabled = true;
      announce(root, say(texts, "working"));
      try {
        var count = await accept(offer, code, copies, texts);
        form.hidden = true;
        announce(root, say(texts, "accepted", { count: count }));
      } catch (error) {
        button.disabled = false;
        announce(root, say(texts, "accept_failed", { reason: error.message }));
      }
    });
  }

  function setUpPresent(root, texts) {
    var form = root.querySelector("#request-form");
    var input = root.querySelector("#request-link");
    var summary = root.querySelector("#request-summary");
    var share = root.querySelector("#share");
    var pending = null;
    form.hidden = false;  // hidden without this script, which holds the keys
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      summary.hidden = true;
      pending = null;
      if (!input.value.trim()) { return fieldError(input, "request-link-hint", say(texts, "link_missing")); }
      var request;
      try {
        request = parseRequest(input.value);
      } catch (error) {
        return fieldError(input, "request-link-hint", say(texts, "link_invalid", { reason: error.message }));
      }
      if (!allowed(request.responseUri, texts)) {
        return fieldError(input, "request-link-hint",
          say(texts, "link_not_allowed", { origin: new URL(request.responseUri).origin }));
      }
      fieldError(input, "request-link-hint", "");
      var credential;
      try {
        credential = await pick(request);
      } catch (error) {
        return announce(root, say(texts, "storage_failed", { reason: error.message }));
      }
      if (!credential) { return announce(root, say(texts, "no_card")); }
      var fresh = !credential.shownAt;
      var card = cardName(credential.display, texts, credential.type);
      var who = new URL(request.responseUri).host;
      root.querySelector("#request-verifier").textContent = say(texts, "verifier", { who: who });
      root.querySelector("#request-card").textContent = say(texts, "card_of", { card: card });
      var claims = root.querySelector("#request-claims");
      claims.textContent = "";
      request.paths.forEach(function (path) { claims.appendChild(element("li", claimLabel(path, texts))); });
      pending = { request: request, credential: credential };
      summary.hidden = false;
      share.disabled = false;
      announce(root, fresh ? say(texts, "asks") : say(texts, "all_used"));
      root.querySelector("#summary-title").focus();
    });
    share.addEventListener("click", async function () {
      if (!pending) { return; }
      share.disabled = true;
      announce(root, say(texts, "working"));
      try {
        var done = await answer(pending.request, pending.credential);
        summary.hidden = true;
        pending = null;
        // PIC's verifier answers its verdict (state, and the reason of a refusal); another may answer {} (§8.2)
        if (done && done.state === "refused") {
          announce(root, say(texts, "refused", { reason: refusal(texts, done.reason, done.detail) }));
          return;
        }
        announce(root, say(texts, done && done.state === "verified" ? "verified" : "sent"));
        if (done && typeof done.redirect_uri === "string" && allowed(done.redirect_uri, texts)) {
          var next = element("a", say(texts, "continue"), "verifier-continue");
          next.href = done.redirect_uri;
          root.querySelector("#wallet-status").appendChild(document.createTextNode(" "));
          root.querySelector("#wallet-status").appendChild(next);
        }
      } catch (error) {
        share.disabled = false;
        announce(root, say(texts, "refused", { reason: refusal(texts, error.slug, error.message) }));
      }
    });
    root.querySelector("#decline").addEventListener("click", function () {
      summary.hidden = true;
      pending = null;
      announce(root, say(texts, "declined"));
      input.focus();
    });
  }

  function setUp(scope) {
    var roots = (scope || document).querySelectorAll("[data-wallet]:not([data-wallet-ready])");
    Array.prototype.forEach.call(roots, function (root) {
      root.setAttribute("data-wallet-ready", "");
      var texts = JSON.parse(root.getAttribute("data-texts") || "{}");
      var kind = root.getAttribute("data-wallet");
      TEXTS_OF[kind] = texts;
      if (!supported()) {
        Array.prototype.forEach.call(root.querySelectorAll("button"), function (b) { b.disabled = true; });
        return announce(root, say(texts, "no_support"));
      }
      if (kind === "list") {
        showList(root, texts).catch(function (error) {
          announce(root, say(texts, "storage_failed", { reason: error.message }));
        });
      } else if (kind === "accept") {
        setUpAccept(root, texts);
      } else if (kind === "present") {
        setUpPresent(root, texts);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  // htmx boosts the app's links: a page it swaps in is set up too (its scripts do not run again)
  document.addEventListener("htmx:load", function (event) { setUp(event.detail && event.detail.elt); });
})();
