// Autosave a reflection draft as the learner types: debounced POST with the CSRF header.
// Offline (or a failed request), the draft is kept in localStorage and sent when the connection is back.
// Status messages come translated from the form's data-msg-* attributes.
(function () {
  "use strict";
  var form = document.getElementById("reflection-form");
  if (!form) return;
  var status = document.getElementById("save-status");
  var url = form.dataset.draftUrl, key = form.dataset.storageKey;
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;

  function collect() {
    var answers = {}, visibility = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      if (el.name.indexOf("a-") === 0) answers[el.name.slice(2)] = el.value;
      if (el.name.indexOf("v-") === 0) visibility[el.name.slice(2)] = el.value;
    });
    return { answers: answers, visibility: visibility };
  }
  function say(text) { if (status.textContent !== text) status.textContent = text; }
  function keepLocally(data) {
    try { localStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* storage full or blocked */ }
    say(form.dataset.msgOffline);
  }
  function send(data) {
    if (!navigator.onLine) { keepLocally(data); return; }
    fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(data) })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
        say(form.dataset.msgSaved);
      })
      .catch(function () { keepLocally(data); });
  }
  function schedule() {
    var data = collect();
    try { localStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* ignore */ }
    clearTimeout(timer);
    timer = setTimeout(function () { send(data); }, 800);
  }
  function restore() {
    var raw = null;
    try { raw = localStorage.getItem(key); } catch (e) { return; }
    if (!raw) return;
    var data = JSON.parse(raw);
    Object.keys(data.answers || {}).forEach(function (id) {
      var field = form.elements["a-" + id];
      if (!field) return;
      if (field.tagName === "TEXTAREA") field.value = data.answers[id];
      else Array.prototype.forEach.call(form.querySelectorAll("[name='a-" + id + "']"), function (r) { r.checked = r.value === String(data.answers[id]); });
    });
    Object.keys(data.visibility || {}).forEach(function (id) {
      Array.prototype.forEach.call(form.querySelectorAll("[name='v-" + id + "']"), function (r) { r.checked = r.value === data.visibility[id]; });
    });
    send(data);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function () { clearTimeout(timer); try { localStorage.removeItem(key); } catch (e) { /* ignore */ } });
  window.addEventListener("online", function () {
    var raw = null;
    try { raw = localStorage.getItem(key); } catch (e) { return; }
    if (raw) send(JSON.parse(raw));
  });
  // On a slow connection the form can be typed in before this script runs: what was typed is the newest
  // draft, so it is saved rather than replaced by a copy kept on this device.
  function changedSincePageLoad(el) {
    if (el.type === "radio" || el.type === "checkbox") return el.checked !== el.defaultChecked;
    return el.tagName === "TEXTAREA" && el.value !== el.defaultValue;
  }
  if (Array.prototype.some.call(form.elements, changedSincePageLoad)) schedule();
  else restore();
})();
