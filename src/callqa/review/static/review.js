// callqa review: seek the recording to evidence, and keep the reviewer's name on every decision form.
(function () {
  "use strict";
  var audio = document.getElementById("player");

  function seek(seconds) {
    if (!audio || isNaN(seconds)) return;
    var go = function () {
      audio.currentTime = seconds;
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () {}); // autoplay rules: seeking still worked
    };
    if (audio.readyState >= 1) go();
    else { audio.addEventListener("loadedmetadata", go, { once: true }); audio.load(); }
  }

  function focusFinding(ids) {
    document.querySelectorAll(".finding.focus, mark.hit.focus").forEach(function (el) { el.classList.remove("focus"); });
    ids.forEach(function (id) {
      var card = document.getElementById(id);
      if (card) card.classList.add("focus");
      document.querySelectorAll('mark.hit[data-findings~="' + id + '"]').forEach(function (m) { m.classList.add("focus"); });
    });
    var first = ids.length && document.getElementById(ids[0]);
    if (first) first.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("form") && !target.closest("button.seek")) return; // decision buttons and comments
    var el = target.closest("[data-seek]");
    if (!el) return;
    seek(parseFloat(el.getAttribute("data-seek")));
    var mark = target.closest("mark.hit");
    if (mark) focusFinding(mark.getAttribute("data-findings").split(" "));
    var card = target.closest(".finding");
    if (card) focusFinding([card.id]);
    var tag = target.closest("a.flag-tag");
    if (tag) focusFinding([tag.getAttribute("href").slice(1)]);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList && event.target.classList.contains("finding")) {
      seek(parseFloat(event.target.getAttribute("data-seek")));
    }
  });

  // Outline the utterance being heard.
  if (audio) {
    var utterances = Array.prototype.slice.call(document.querySelectorAll(".utt[data-seek]"));
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      utterances.forEach(function (u) {
        var on = t >= parseFloat(u.getAttribute("data-seek")) && t < parseFloat(u.getAttribute("data-end"));
        u.classList.toggle("playing", on);
      });
    });
  }

  // The reviewer types their name once (top bar); every decision form sends it.
  var name = document.getElementById("reviewer-name");
  if (name) {
    var sync = function () {
      document.querySelectorAll('.decision-form input[name="reviewer"]').forEach(function (i) { i.value = name.value.trim(); });
    };
    name.addEventListener("input", sync);
    document.addEventListener("submit", function (event) {
      sync();
      if (event.target.classList.contains("decision-form") && !name.value.trim()) {
        event.preventDefault();
        name.focus();
        name.setCustomValidity("Enter your name: every decision records who made it.");
        name.reportValidity();
        name.addEventListener("input", function () { name.setCustomValidity(""); }, { once: true });
      }
    });
  }
})();
