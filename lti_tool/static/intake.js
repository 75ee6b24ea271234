/* Intake (messages come translated from data-msg-* attributes). Without script the form is one page that
   works with its buttons; with it: autosave (debounced), one step at a time with Back / Next, skills ranked
   with Move up / Move down (announced), the device's time zone suggested, and a review of the answers. */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var status = document.getElementById("autosave-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  /* ---------------------------------------------------------------- autosave */
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
  // On a slow connection the form can be typed in before this script runs: save what changed meanwhile.
  function changedSincePageLoad(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      var options = Array.prototype.slice.call(el.options);
      var defaults = options.filter(function (o) { return o.defaultSelected; });
      if (!el.multiple && !defaults.length) return el.selectedIndex > 0;  // the browser showed the first one
      return options.some(function (o) { return o.selected !== o.defaultSelected; });
    }
    return el.type !== "hidden" && "defaultValue" in el && el.value !== el.defaultValue;
  }
  if (Array.prototype.some.call(form.elements, changedSincePageLoad)) schedule();

  /* ---------------------------------------------------------------- ranked skills */
  form.querySelectorAll("fieldset.skills").forEach(function (set) {
    var order = document.getElementById(set.dataset.order);
    var box = set.querySelector(".ranking");
    var list = box.querySelector("ol.ranked");
    var empty = box.querySelector(".empty-ranking");
    var announce = box.querySelector("[aria-live]");
    var name = box.dataset.name;
    var skills = Array.prototype.map.call(list.querySelectorAll("input[type=hidden]"), function (i) { return i.value; });
    box.querySelectorAll(".hint")[0].hidden = true;  // the no-script instructions

    function button(label, skill, dir, index) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "button secondary small";
      b.textContent = label;
      b.setAttribute("aria-label", label + ": " + skill);
      b.dataset.dir = dir;
      b.dataset.skill = skill;
      var edge = dir === "up" ? index === 0 : index === skills.length - 1;
      if (edge) b.setAttribute("aria-disabled", "true");
      return b;
    }
    function render(focusSkill, focusDir) {
      list.textContent = "";
      skills.forEach(function (skill, i) {
        var li = document.createElement("li");
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = name + "_ranked"; hidden.value = skill;
        var rank = document.createElement("input");
        rank.type = "hidden"; rank.name = name + "_rank"; rank.value = String(i + 1);
        var text = document.createElement("span");
        text.className = "skill"; text.textContent = skill;
        li.append(hidden, rank, text, button(box.dataset.msgUp, skill, "up", i), button(box.dataset.msgDown, skill, "down", i));
        list.appendChild(li);
      });
      order.value = skills.join("|");
      empty.hidden = skills.length > 0;
      if (focusSkill) {
        var again = list.querySelector("button[data-dir='" + focusDir + "'][data-skill='" + CSS.escape(focusSkill) + "']");
        if (again) again.focus();
      }
    }
    list.addEventListener("click", function (e) {
      var b = e.target.closest("button");
      if (!b || b.getAttribute("aria-disabled") === "true") return;
      var i = skills.indexOf(b.dataset.skill), j = b.dataset.dir === "up" ? i - 1 : i + 1;
      if (j < 0 || j >= skills.length) return;
      skills.splice(j, 0, skills.splice(i, 1)[0]);
      render(b.dataset.skill, b.dataset.dir);
      announce.textContent = fmt(box.dataset.msgMoved, {skill: b.dataset.skill, n: j + 1, total: skills.length});
      schedule();
    });
    set.addEventListener("change", function (e) {
      if (e.target.type !== "checkbox" || e.target.name !== name) return;
      skills = skills.filter(function (s) { return s !== e.target.value; });
      if (e.target.checked) skills.push(e.target.value);
      render();
    });
    render();
  });

  /* ---------------------------------------------------------------- self-described gender */
  var wrap = document.getElementById("self-described-wrap");
  function toggle() {
    var chosen = form.querySelector("input[name=gender]:checked");
    wrap.hidden = !(chosen && chosen.value === "self-described");
  }
  form.querySelectorAll("input[name=gender]").forEach(function (r) { r.addEventListener("change", toggle); });
  toggle();

  /* ---------------------------------------------------------------- time zone */
  var zone = document.getElementById("timezone");
  var device = "";
  try { device = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { device = ""; }
  var known = Array.prototype.some.call(document.querySelectorAll("#timezone-list option"),
                                        function (o) { return o.value === device; });
  if (zone && known) {
    if (zone.dataset.prefill) zone.value = device;
    var suggest = form.querySelector(".zone-suggest");
    var use = document.getElementById("use-device-zone");
    use.textContent = fmt(form.dataset.msgUseZone, {tz: device});
    var offer = function () { suggest.hidden = zone.value === device; };
    use.addEventListener("click", function () { zone.value = device; offer(); zone.focus(); schedule(); });
    zone.addEventListener("input", offer);
    offer();
  }

  /* ---------------------------------------------------------------- steps */
  var steps = Array.prototype.slice.call(form.querySelectorAll("section.step"));
  var nav = form.querySelector(".steps-nav");
  var links = Array.prototype.slice.call(nav.querySelectorAll("a"));
  var review = document.getElementById("review-summary");
  var current = 0;

  function answer(stepIndex, text, missing, fieldId) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = text;
    var value = missing.value;
    if (value) { dd.textContent = value; } else {
      var strong = document.createElement(missing.required ? "strong" : "span");
      strong.textContent = missing.required ? form.dataset.msgMissing : form.dataset.msgNone;
      dd.appendChild(strong);
    }
    dd.appendChild(document.createTextNode(" "));
    var change = document.createElement("a");
    change.href = "#" + fieldId;
    change.textContent = form.dataset.msgChange;
    change.setAttribute("aria-label", form.dataset.msgChange + ": " + text);
    dd.appendChild(change);
    review.append(dt, dd);
  }
  function legendText(id) {
    var el = document.getElementById(id);
    var legend = el && el.querySelector("legend");
    var text = legend ? legend.firstChild.textContent : (document.querySelector("label[for='" + id + "']") || {}).textContent;
    return (text || "").trim();
  }
  function checkedLabel(name) {
    var c = form.querySelector("input[name=" + name + "]:checked");
    return c ? form.querySelector("label[for='" + c.id + "']").textContent.trim() : "";
  }
  function ranked(name) {
    return Array.prototype.map.call(form.querySelectorAll("input[name=" + name + "_ranked]"), function (i) { return i.value; });
  }
  function buildReview() {
    review.textContent = "";
    var gender = checkedLabel("gender");
    var own = document.getElementById("gender_self_described");
    if (gender && own && !wrap.hidden && own.value.trim()) gender = own.value.trim();
    var offers = ranked("offers"), wants = ranked("wants");
    var otherOffers = document.getElementById("offers_other").value.trim();
    var otherWants = document.getElementById("wants_other").value.trim();
    var hours = form.querySelectorAll("input[name=availability]:checked").length;
    answer(0, legendText("gender"), {value: gender, required: true}, "gender");
    answer(0, legendText("department"), {value: document.getElementById("department").value.trim(), required: true}, "department");
    answer(0, legendText("location"), {value: document.getElementById("location").value.trim(), required: true}, "location");
    answer(0, legendText("level"), {value: checkedLabel("level"), required: true}, "level");
    answer(1, legendText("offers"), {value: offers.concat(otherOffers ? [otherOffers] : []).join(", "), required: true}, "offers");
    answer(2, legendText("wants"), {value: wants.concat(otherWants ? [otherWants] : []).join(", "), required: true}, "wants");
    answer(3, legendText("timezone"), {value: zone ? zone.value.trim() : "", required: false}, "timezone");
    answer(3, legendText("availability"), {value: hours ? fmt(form.dataset.msgHours, {n: hours}) : "", required: true}, "availability");
    review.hidden = false;
  }

  function show(index, focus) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach(function (s, i) { s.hidden = i !== current; });
    links.forEach(function (a, i) {
      if (i === current) a.setAttribute("aria-current", "step"); else a.removeAttribute("aria-current");
    });
    if (steps[current].id === "step-review") buildReview();
    if (focus) steps[current].querySelector("h2").focus();
  }
  function stepOf(el) { return steps.indexOf(el.closest("section.step")); }

  steps.forEach(function (section, i) {
    var counter = document.createElement("p");
    counter.className = "step-count";
    counter.textContent = fmt(form.dataset.msgStep, {n: i + 1, total: steps.length});
    section.querySelector("h2").after(counter);
    var bar = document.createElement("div");
    bar.className = "actions step-buttons";
    if (i > 0) {
      var back = document.createElement("button");
      back.type = "button"; back.className = "button secondary"; back.textContent = form.dataset.msgBack;
      back.addEventListener("click", function () { show(i - 1, true); });
      bar.appendChild(back);
    }
    if (i < steps.length - 1) {
      var next = document.createElement("button");
      next.type = "button"; next.className = "button"; next.textContent = form.dataset.msgNext;
      next.addEventListener("click", function () { show(i + 1, true); });
      bar.appendChild(next);
    }
    if (bar.children.length) section.insertBefore(bar, section.querySelector(".actions"));
  });
  links.forEach(function (a, i) {
    a.addEventListener("click", function (e) { e.preventDefault(); show(i, true); });
  });
  // Links to a field (the error summary, "Change" in the review) open its step first.
  document.addEventListener("click", function (e) {
    var a = e.target.closest("a[href^='#']");
    if (!a || a.dataset.step) return;
    var target = document.getElementById(a.getAttribute("href").slice(1));
    if (!target || stepOf(target) < 0) return;
    e.preventDefault();
    show(stepOf(target), false);
    history.replaceState(null, "", "#" + target.id);
    var focusable = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    (focusable || target).focus();
  });
  nav.hidden = false;
  var firstError = form.querySelector(".has-error");
  show(firstError ? stepOf(firstError) : 0, false);
})();
