// callqa review: seek the recording to evidence, decide findings in place, keyboard shortcuts.
// Served as a file (the CSP allows no inline script); every form still works without it.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var words = document.body.dataset;
  var nameInput = document.getElementById("reviewer-name");
  var current = null; // the finding card j/k/c/d act on

  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // --- the recording ---------------------------------------------------------------------------
  function seek(seconds, play) {
    if (!audio || isNaN(seconds)) return;
    var go = function () {
      audio.currentTime = seconds;
      if (play === false) return;
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () {}); // autoplay rules: seeking still worked
    };
    if (audio.readyState >= 1) go();
    else { audio.addEventListener("loadedmetadata", go, { once: true }); audio.load(); }
  }

  function focusFinding(ids, scroll) {
    $all(".finding.focus, mark.hit.focus, .timeline .focus").forEach(function (el) { el.classList.remove("focus"); });
    ids.forEach(function (id) {
      var card = document.getElementById(id);
      if (card) { card.classList.add("focus"); current = card; }
      $all('mark.hit[data-findings~="' + id + '"], .timeline [data-finding="' + id + '"]')
        .forEach(function (m) { m.classList.add("focus"); });
    });
    var first = ids.length && document.getElementById(ids[0]);
    if (first && scroll !== false) {
      var box = first.closest("details"); if (box && !box.open) box.open = true;
      first.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("form") && !target.closest("button.seek")) return; // decision buttons and comments
    var el = target.closest("[data-seek]");
    if (!el) return;
    seek(parseFloat(el.getAttribute("data-seek")));
    var finding = el.getAttribute("data-finding");
    var mark = target.closest("mark.hit");
    var card = target.closest(".finding");
    var tag = target.closest("a.flag-tag");
    if (finding) focusFinding([finding]);
    else if (mark) focusFinding(mark.getAttribute("data-findings").split(" "));
    else if (card) focusFinding([card.id], false);
    else if (tag) focusFinding([tag.getAttribute("href").slice(1)]);
  });

  // The utterance being heard is outlined, the transcript follows it, and the timeline's playhead moves.
  if (audio) {
    var utterances = $all(".utt[data-seek]");
    var follow = document.getElementById("follow");
    var timeline = document.getElementById("timeline");
    var head = timeline && timeline.querySelector(".playhead");
    var lastPlaying = null;
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime, playing = null;
      utterances.forEach(function (u) {
        var on = t >= parseFloat(u.getAttribute("data-seek")) && t < parseFloat(u.getAttribute("data-end"));
        u.classList.toggle("playing", on);
        if (on && !playing) playing = u;
      });
      if (playing && playing !== lastPlaying && follow && follow.checked && !audio.paused) {
        playing.scrollIntoView({ block: "nearest", behavior: "smooth" });
      }
      lastPlaying = playing || lastPlaying;
      if (head) {
        var x0 = parseFloat(timeline.dataset.x0), x1 = parseFloat(timeline.dataset.x1), end = parseFloat(timeline.dataset.end);
        var x = x0 + (x1 - x0) * Math.min(1, t / end);
        head.setAttribute("x1", x); head.setAttribute("x2", x);
      }
    });
  }

  // A page reload (a plain form post, a reopened call) keeps the reviewer where they were.
  var call = document.getElementById("call-title");
  var keep = call && "callqa:" + location.pathname;
  if (keep) {
    try {
      var saved = JSON.parse(sessionStorage.getItem(keep) || "null");
      sessionStorage.removeItem(keep);
      if (saved) {
        window.scrollTo(0, saved.y);
        if (saved.t) seek(saved.t, false);
      }
    } catch (e) { /* storage refused: nothing to restore */ }
    window.addEventListener("pagehide", function () {
      try { sessionStorage.setItem(keep, JSON.stringify({ y: window.scrollY, t: audio ? audio.currentTime : 0 })); }
      catch (e) { /* storage refused */ }
    });
  }

  // --- decisions in place -------------------------------------------------------------------------
  function reviewerName() { return nameInput ? nameInput.value.trim() : null; }

  function askName() {
    nameInput.focus();
    nameInput.setCustomValidity(words.wordsName);
    nameInput.reportValidity();
    nameInput.addEventListener("input", function () { nameInput.setCustomValidity(""); }, { once: true });
  }

  function setText(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value === null || value === undefined ? "—" : String(value);
  }

  function verdictHtml(passed, listening) {
    if (passed === true) return '<span class="verdict pass"></span>';
    if (passed === false) return '<span class="verdict fail"></span>';
    return listening ? '<span class="verdict listen"></span>' : '<span class="verdict na">–</span>';
  }

  function showCheck(id, check) {
    var card = document.getElementById("check-" + id);
    if (!card) return;
    var listening = card.classList.contains("listening") || !!card.querySelector(".listen-note");
    var slot = card.querySelector(".verdict-now");
    slot.innerHTML = verdictHtml(check.passed, listening);
    var v = slot.firstChild;
    if (check.passed === true) v.textContent = words.wordsPass;
    else if (check.passed === false) v.textContent = words.wordsFail;
    else if (listening) v.textContent = words.wordsListen;
    card.classList.toggle("failed", check.passed === false);
    var ded = card.querySelector(".deduction");
    ded.textContent = check.deduction ? "−" + check.deduction : "0";
    var was = card.querySelector(".was");
    if (was) was.hidden = parseFloat(ded.dataset.machine) === check.deduction;
  }

  function showFinding(fp, state, reviewer, score) {
    var card = document.querySelector('.finding[data-fingerprint="' + fp + '"]');
    if (!card) return;
    card.classList.remove("state-open", "state-confirm", "state-dismiss");
    card.classList.add("state-" + state);
    var badge = card.querySelector(".state");
    badge.textContent = words["words" + state.charAt(0).toUpperCase() + state.slice(1)];
    badge.className = "state badge " + (state === "confirm" ? "bad" : state === "dismiss" ? "muted" : "");
    card.querySelector(".decided").textContent = badge.textContent + " · " + reviewer;
    var confirm = card.querySelector("button.confirm[value=confirm]");
    if (confirm) confirm.disabled = state === "confirm";
    var box = card.querySelector(".dismiss-box");
    if (box) { box.open = false; box.hidden = state === "dismiss"; }
    if (score !== null && score !== undefined) {
      card.querySelector(".score-after").textContent = words.wordsScore.replace("{score}", score);
    }
    // Dismissed words are no longer marked; words another live finding covers stay marked.
    $all('mark.hit[data-findings~="' + card.id + '"]').forEach(function (m) {
      var live = m.getAttribute("data-findings").split(" ").some(function (id) {
        var other = document.getElementById(id);
        return other && !other.classList.contains("state-dismiss");
      });
      m.classList.toggle("off", !live);
    });
    $all('.timeline [data-finding="' + card.id + '"]').forEach(function (m) {
      m.classList.remove("state-open", "state-confirm", "state-dismiss");
      m.classList.add("state-" + state);
    });
  }

  function applyOutcome(data) {
    setText("review-score", data.score);
    setText("player-score", data.score);
    var box = document.getElementById("review-box");
    if (box) box.classList.toggle("changed", data.score !== data.machine_score);
    Object.keys(data.checks).forEach(function (id) { showCheck(id, data.checks[id]); });
    var state = data.decision === "confirm_all" ? "confirm" : data.state;
    if (state) data.fingerprints.forEach(function (fp) { showFinding(fp, state, data.reviewer, data.score); });
    var form = document.getElementById("review-form");
    if (form) form.dataset.open = data.open;
    var all = document.getElementById("confirm-all");
    if (all) all.disabled = !data.open;
  }

  function flash(message, kind) {
    var old = document.getElementById("live-flash");
    if (old) old.remove();
    var div = document.createElement("div");
    div.id = "live-flash"; div.className = "flash " + kind; div.setAttribute("role", "status");
    div.textContent = message;
    var player = document.querySelector(".player");
    (player || document.querySelector("main")).appendChild(div);
  }

  function send(form, submitter) {
    var data = new FormData(form, submitter);
    return fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                                headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(function (res) {
        if (!res.body.ok) { flash(res.body.error || "error", "error"); return; }
        applyOutcome(res.body);
        var live = document.getElementById("live-flash"); if (live) live.remove();
      })
      .catch(function () { form.submit(); }); // no JSON (a proxy's error page): let the browser show it
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("decision-form")) return;
    var name = reviewerName();
    $all('input[name="reviewer"]', form).forEach(function (i) { if (name !== null) i.value = name; });
    if (name === "" && !form.closest("#sample-form")) { event.preventDefault(); askName(); return; }
    var submitter = event.submitter;
    var decision = submitter && submitter.name === "decision" ? submitter.value : "";
    if (decision === "dismiss" && !form.querySelector('input[name="reason"]:checked') &&
        !form.querySelector('input[name="comment"]').value.trim()) {
      event.preventDefault();
      var first = form.querySelector('input[name="reason"]');
      first.setCustomValidity(words.wordsReason); first.reportValidity();
      // any reason picked, or a comment written, clears it (a radio's validity would block the next submit)
      var clear = function () { first.setCustomValidity(""); };
      form.addEventListener("change", clear, { once: true });
      form.addEventListener("input", clear, { once: true });
      return;
    }
    if (decision === "reviewed" && submitter.id === "mark-reviewed" && parseInt(form.dataset.open || "0", 10) > 0) {
      event.preventDefault();
      var warning = document.getElementById("open-warning");
      var text = document.getElementById("open-warning-text");
      text.textContent = text.dataset.template.replace("{n}", form.dataset.open);
      warning.hidden = false;
      document.getElementById("mark-anyway").focus();
      return;
    }
    if (decision === "confirm" || decision === "dismiss" || decision === "confirm_all") {
      event.preventDefault();
      send(form, submitter);
    }
  });

  var cancel = document.getElementById("warning-cancel");
  if (cancel) cancel.addEventListener("click", function () { document.getElementById("open-warning").hidden = true; });

  if (nameInput) {
    nameInput.addEventListener("input", function () {
      $all('.decision-form input[name="reviewer"]').forEach(function (i) { i.value = nameInput.value.trim(); });
    });
  }

  // --- keyboard: space play/pause, j/k next/previous finding, c confirm, d dismiss (1-5 a reason) --
  function cards() { return $all(".finding[data-decide]"); }

  function move(step) {
    var list = cards();
    if (!list.length) return;
    var at = list.indexOf(current);
    var next = list[at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, at + step))];
    focusFinding([next.id]);
    seek(parseFloat(next.getAttribute("data-seek")));
  }

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) &&
      !(el.type === "radio" || el.type === "checkbox");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || !call) return;
    var key = event.key;
    var openBox = current && current.querySelector(".dismiss-box[open]");
    if (openBox && /^[1-5]$/.test(key)) {
      var radios = $all('input[name="reason"]', openBox);
      var pick = radios[parseInt(key, 10) - 1];
      if (!pick) return;
      event.preventDefault();
      pick.checked = true;
      if (pick.value === "other") { openBox.querySelector('input[name="comment"]').focus(); return; }
      openBox.querySelector('button[value="dismiss"]').click();
      return;
    }
    if (key === " " && audio) {
      if (event.target.closest && event.target.closest("button, summary, a, audio")) return; // their own space
      event.preventDefault();
      if (audio.paused) { var p = audio.play(); if (p && p.catch) p.catch(function () {}); } else audio.pause();
    } else if (key === "j" || key === "k") {
      event.preventDefault(); move(key === "j" ? 1 : -1);
    } else if (key === "c" && current) {
      var confirm = current.querySelector('button[value="confirm"]');
      if (confirm && !confirm.disabled) { event.preventDefault(); confirm.click(); }
    } else if (key === "d" && current) {
      var box = current.querySelector(".dismiss-box");
      if (box && !box.hidden) { event.preventDefault(); box.open = true; box.querySelector('input[name="reason"]').focus(); }
    } else if (key === "Escape" && openBox) {
      openBox.open = false;
    } else if (key === "Enter" && event.target.classList && event.target.classList.contains("finding")) {
      seek(parseFloat(event.target.getAttribute("data-seek")));
    }
  });
})();
