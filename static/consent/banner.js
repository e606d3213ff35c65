/* Okasio cookie banner (REQUIREMENTS C1-C5, B12).
 *
 * One tag embeds it on any page:
 *   <script src="https://vie-privee.okasio.fr/static/consent/banner.js" defer></script>
 * It asks the portal's API (/api/v1/consent/, or the tag's data-api) whether to show the
 * banner, in the page's language, and records the visitor's choice there. Nothing that needs
 * consent runs before it: Google Analytics is loaded only after audience-measurement consent.
 * The choice lives in a first-party cookie for CONSENT_CHOICE_MONTHS, then the banner asks
 * again; it asks at once when the banner's version (purposes, third parties, texts) changes.
 * Any element with [data-okasio-consent-open] reopens the choices.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var origin = new URL(script.src, window.location.href).origin;
  var api = new URL(script.getAttribute("data-api") || "/api/v1/consent/", origin).href;
  var state = null;
  var root = null;
  var analyticsLoaded = false;

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function writeCookie(name, value, maxAge) {
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie =
      name + "=" + encodeURIComponent(value) + "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" + secure;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) node.textContent = text;
    return node;
  }

  function loadStyles() {
    if (document.getElementById("okasio-consent-css")) return;
    var link = el("link", {
      id: "okasio-consent-css",
      rel: "stylesheet",
      href: new URL("banner.css", script.src).href,
    });
    document.head.appendChild(link);
  }

  /* Google Analytics: only here, only after consent (C1), cookies 13 months at most (C5). */
  function loadAnalytics() {
    var ga = state && state.analytics;
    if (!ga || analyticsLoaded) return;
    analyticsLoaded = true;
    window["ga-disable-" + ga.measurement_id] = false;
    window.dataLayer = window.dataLayer || [];
    window.gtag = function () { window.dataLayer.push(arguments); };
    window.gtag("js", new Date());
    window.gtag("config", ga.measurement_id, {
      cookie_expires: ga.cookie_expires,
      cookie_update: ga.cookie_update,
    });
    var tag = el("script", {
      async: "",
      src: "https://www.googletagmanager.com/gtag/js?id=" + encodeURIComponent(ga.measurement_id),
    });
    document.head.appendChild(tag);
  }

  /* Withdrawal: stop Google Analytics and remove its cookies (B12). */
  function stopAnalytics() {
    var ga = state && state.analytics;
    if (!ga) return;
    window["ga-disable-" + ga.measurement_id] = true;
    var host = window.location.hostname.split(".");
    document.cookie.split("; ").forEach(function (pair) {
      var name = pair.split("=")[0];
      if (name.indexOf("_ga") !== 0) return;
      for (var i = 0; i < host.length; i++) {
        var domain = host.slice(i).join(".");
        document.cookie = name + "=; Max-Age=0; Path=/; Domain=" + domain;
      }
      document.cookie = name + "=; Max-Age=0; Path=/";
    });
  }

  function apply(choices) {
    if (choices && choices.audience) loadAnalytics();
    else stopAnalytics();
  }

  function choose(choices) {
    return fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "omit",
      body: JSON.stringify({
        browser_id: state.browser_id,
        version: state.version,
        choices: choices,
      }),
    })
      .then(function (response) {
        if (response.status === 409) return start(); // the banner changed meanwhile
        if (!response.ok) throw new Error("consent " + response.status);
        return response.json().then(function (saved) {
          writeCookie(saved.cookie_name, saved.cookie, saved.max_age);
          state.browser_id = saved.browser_id;
          state.choices = saved.choices;
          state.ask = false;
          close();
          apply(saved.choices);
        });
      });
  }

  function all(value) {
    var choices = {};
    state.banner.purposes.forEach(function (p) { choices[p.key] = value; });
    return choices;
  }

  function close() {
    if (root) root.remove();
    root = null;
  }

  function render(openDetails) {
    close();
    loadStyles();
    var banner = state.banner;
    var t = banner.texts;
    root = el("div", {
      id: "okasio-consent",
      class: "okc",
      role: "dialog",
      "aria-labelledby": "okc-title",
      lang: banner.language,
    });
    root.appendChild(el("h2", { id: "okc-title", class: "okc-title" }, t.title));
    root.appendChild(el("p", { class: "okc-intro" }, t.intro));

    /* First layer: three buttons of the same size and style, one click each (C2). */
    var buttons = el("div", { class: "okc-buttons" });
    var accept = el("button", { type: "button", class: "okc-btn", "data-okc": "accept" }, t.accept_all);
    var refuse = el("button", { type: "button", class: "okc-btn", "data-okc": "refuse" }, t.refuse_all);
    var custom = el("button", { type: "button", class: "okc-btn", "data-okc": "customise",
      "aria-expanded": openDetails ? "true" : "false" }, t.customise);
    buttons.append(accept, refuse, custom);
    root.appendChild(buttons);

    /* Second layer: one switch per purpose, off unless chosen, with its third parties (C3). */
    var details = el("form", { class: "okc-details" });
    if (!openDetails) details.hidden = true;
    banner.purposes.forEach(function (p) {
      var box = el("fieldset", { class: "okc-purpose" });
      var label = el("label", { class: "okc-switch" });
      var input = el("input", { type: "checkbox", role: "switch", name: p.key });
      input.checked = !!(state.choices && state.choices[p.key]);
      label.append(input, document.createTextNode(" " + p.label));
      box.appendChild(label);
      box.appendChild(el("p", {}, p.description));
      box.appendChild(el("p", { class: "okc-third-title" }, t.third_parties));
      var list = el("ul", { class: "okc-third-parties" });
      if (!p.third_parties.length) list.appendChild(el("li", {}, t.no_third_party));
      p.third_parties.forEach(function (tp) {
        list.appendChild(el("li", {}, tp.name + " (" + tp.country + ") — " + tp.transfer + " — " + tp.cookies));
      });
      box.appendChild(list);
      details.appendChild(box);
    });
    var save = el("button", { type: "submit", class: "okc-btn", "data-okc": "save" }, t.save);
    details.appendChild(save);
    root.appendChild(details);
    root.appendChild(el("a", { class: "okc-policy", href: new URL(banner.policy_url, origin).href }, t.policy));

    accept.addEventListener("click", function () { choose(all(true)); });
    refuse.addEventListener("click", function () { choose(all(false)); });
    custom.addEventListener("click", function () {
      details.hidden = !details.hidden;
      custom.setAttribute("aria-expanded", details.hidden ? "false" : "true");
    });
    details.addEventListener("submit", function (event) {
      event.preventDefault();
      var choices = {};
      banner.purposes.forEach(function (p) { choices[p.key] = details.elements[p.key].checked; });
      choose(choices);
    });
    document.body.appendChild(root);
  }

  function start() {
    var lang = (document.documentElement.lang || "").slice(0, 2);
    var url = api + "?lang=" + encodeURIComponent(lang) +
      "&state=" + encodeURIComponent(readCookie("okasio_consent"));
    return fetch(url, { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        state = data;
        if (state.ask) render(false);
        else apply(state.choices);
      });
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-okasio-consent-open]");
    if (!opener || !state) return;
    event.preventDefault();
    render(true);
  });

  start();
})();
