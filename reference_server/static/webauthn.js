// Security devices (WebAuthn) for the provisioning page and the two-factor login page.
//
// Contract: GET the form's data-options-url (JSON, binary values base64url without padding;
// with data-challenge-encoding="char-codes" the challenge and user id are read as Warehouse's
// page reads them, each character's code a byte), call navigator.credentials.create/get, POST FormData {csrf_token, credential: JSON string,
// label | remember_device} to data-validate-url, and show {"fail": {"errors": [...]}} in
// ul#webauthn-errors. Every browser call has its own timeout so the page never hangs.
"use strict";
(function () {
  var TIMEOUT_SLACK_MS = 5000;

  function b64urlToBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function bytesToB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Warehouse's page: Uint8Array.from(text, c => c.charCodeAt(0)).
  function charCodes(text) {
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); }).buffer;
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: b64urlToBytes(d.id) });
    });
  }

  function creationOptions(json, encoding) {
    if (encoding !== "char-codes" && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var bytes = encoding === "char-codes" ? charCodes : b64urlToBytes;
    return Object.assign({}, json, {
      challenge: bytes(json.challenge),
      user: Object.assign({}, json.user, { id: bytes(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials),
    });
  }

  function requestOptions(json, encoding) {
    if (encoding !== "char-codes" && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: encoding === "char-codes" ? charCodes(json.challenge) : b64urlToBytes(json.challenge),
      allowCredentials: descriptors(json.allowCredentials),
    });
  }

  // The credential as the server reads it: toJSON() when the browser has it, else the same
  // shape built by hand.
  function credentialJSON(credential, extensionsKey) {
    var out;
    if (typeof credential.toJSON === "function") {
      out = credential.toJSON();
    } else {
      var r = credential.response;
      var response = { clientDataJSON: bytesToB64url(r.clientDataJSON) };
      if (r.attestationObject) response.attestationObject = bytesToB64url(r.attestationObject);
      if (r.authenticatorData) response.authenticatorData = bytesToB64url(r.authenticatorData);
      if (r.signature) response.signature = bytesToB64url(r.signature);
      if (r.userHandle) response.userHandle = bytesToB64url(r.userHandle);
      out = {
        id: credential.id,
        rawId: bytesToB64url(credential.rawId),
        type: credential.type,
        response: response,
      };
    }
    out[extensionsKey] = JSON.stringify(credential.getClientExtensionResults());
    return JSON.stringify(out);
  }

  function withTimeout(promise, ms, message) {
    var timer;
    var timeout = new Promise(function (_resolve, reject) {
      timer = setTimeout(function () { reject(new Error(message)); }, ms);
    });
    return Promise.race([promise, timeout]).finally(function () { clearTimeout(timer); });
  }

  function showErrors(list, messages) {
    Array.prototype.slice.call(list.querySelectorAll("li:not(#webauthn-browser-support)"))
      .forEach(function (li) { li.remove(); });
    messages.forEach(function (message) {
      var li = document.createElement("li");
      li.textContent = message;
      list.appendChild(li);
    });
  }

  function setUp(form, button, kind) {
    var errors = document.getElementById("webauthn-errors");
    var encoding = form.dataset.challengeEncoding;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      document.getElementById("webauthn-browser-support").hidden = false;
      return;  // the button stays disabled
    }
    button.disabled = false;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      showErrors(errors, []);
      var body = new FormData();
      body.append("csrf_token", button.value);
      if (kind === "provision") {
        var label = document.getElementById("webauthn-provision-label");
        if (!label.reportValidity()) return;
        body.append("label", label.value);
      } else if ((document.getElementById("remember_device_webauthn") || {}).checked) {
        body.append("remember_device", "true");
      }
      button.disabled = true;
      fetch(form.dataset.optionsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (json) {
          if (json.fail) throw new Error(json.fail.errors.join(" "));
          var ms = (json.timeout || 60000) + TIMEOUT_SLACK_MS;
          var call = kind === "provision"
            ? navigator.credentials.create({ publicKey: creationOptions(json, encoding) })
            : navigator.credentials.get({ publicKey: requestOptions(json, encoding) });
          return withTimeout(call, ms, "The security device did not answer in time. Try again.");
        })
        .then(function (credential) {
          if (!credential) throw new Error("No credential was returned by the security device.");
          var key = kind === "provision" ? "registrationClientExtensions" : "assertionClientExtensions";
          body.append("credential", credentialJSON(credential, key));
          return fetch(form.dataset.validateUrl, { method: "POST", body: body, credentials: "same-origin" });
        })
        .then(function (r) { return r.json(); })
        .then(function (json) {
          if (json.fail) throw new Error(json.fail.errors.join(" "));
          window.location.href = kind === "provision" ? form.dataset.successUrl : (json.redirect_to || "/");
        })
        .catch(function (error) {
          showErrors(errors, [error && error.message ? error.message : String(error)]);
          button.disabled = false;
        });
    });
  }

  function start() {
    var provision = document.getElementById("webauthn-provision-form");
    if (provision) setUp(provision, document.getElementById("webauthn-provision-begin"), "provision");
    var auth = document.getElementById("webauthn-auth-form");
    if (auth) setUp(auth, document.getElementById("webauthn-auth-begin"), "authenticate");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
