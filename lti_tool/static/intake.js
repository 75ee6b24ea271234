/* Intake (messages come translated from data-msg-* attributes): autosave the draft (debounced), keep the order skills were ticked in, show the
   self-description field only when chosen. Without script the form works with its buttons. */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var status = document.getElementById("autosave-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;

  function save() {
    var data = new FormData(form);
    status.textContent = form.dataset.msgSaving;
    fetch(form.dataset.autosave, {method: "POST", body: data, credentials: "same-origin",
                                  headers: {"X-CSRFToken": token, "Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (res) { status.textContent = res.body.message || form.dataset.msgFailed; })
      .catch(function () { status.textContent = form.dataset.msgFailed; });
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(save, 1200); }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);

  form.querySelectorAll("fieldset.skills").forEach(function (set) {
    var order = document.getElementById(set.dataset.order);
    var shown = set.querySelector(".order-now");
    set.addEventListener("change", function (e) {
      if (e.target.type !== "checkbox") return;
      var list = order.value ? order.value.split("|") : [];
      list = list.filter(function (s) { return s !== e.target.value; });
      if (e.target.checked) list.push(e.target.value);
      order.value = list.join("|");
      shown.textContent = list.length ? form.dataset.msgOrder + " " + list.join(", ") : "";
    });
  });

  var wrap = document.getElementById("self-described-wrap");
  function toggle() {
    var chosen = form.querySelector("input[name=gender]:checked");
    wrap.hidden = !(chosen && chosen.value === "self-described");
  }
  form.querySelectorAll("input[name=gender]").forEach(function (r) { r.addEventListener("change", toggle); });
  toggle();
})();
