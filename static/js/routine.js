// The hold timer of a guided routine: an enhancement. Without it the page
// still says how long to hold and links to the previous and next stretch.
//
// Screen readers hear the timer through one polite live region, and only at
// moments that matter: the start (with the breathing cue), halfway, a
// breathing reminder, pause and resume, and the end. The seconds themselves
// sit in a role="timer" element, which is not announced as it changes.
(function () {
  "use strict";
  var box = document.querySelector(".hold-timer[data-hold-seconds]");
  if (!box) { return; }

  var holdMs = parseInt(box.getAttribute("data-hold-seconds"), 10) * 1000;
  var holds = parseInt(box.getAttribute("data-holds"), 10) || 1;
  var perSide = box.getAttribute("data-per-side") === "true";
  var cue = box.getAttribute("data-breathing-cue") || "";

  // Words come from the page (data-msg-*, translated by the template) in the
  // patient's language; the English here is only a fallback.
  function t(key, english, vars) {
    var text = box.getAttribute("data-msg-" + key) || english;
    Object.keys(vars || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(vars[name])); });
    return text;
  }
  var display = box.querySelector(".timer-display");
  var breath = box.querySelector(".breath-prompt");
  var status = box.querySelector(".timer-status");
  var holdsLabel = box.querySelector(".timer-holds");
  var controls = box.querySelector(".timer-controls");
  var toggle = box.querySelector('[data-timer-action="toggle"]');
  var reset = box.querySelector('[data-timer-action="reset"]');
  if (!holdMs || !display || !status || !toggle || !reset) { return; }

  var BREATH_MS = 5000; // one slow breath: in for about 5 s, out for about 5 s
  var hold = 1;         // which hold of `holds` this is
  var remaining = holdMs;
  var endsAt = 0;
  var ticker = null;
  var halfwaySaid = false;
  var reminderSaid = false;

  box.querySelector(".timer-no-js").hidden = true;
  controls.hidden = false;
  if (holds > 1) { holdsLabel.hidden = false; }

  function clock(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    return Math.floor(s / 60) + ":" + (s % 60 < 10 ? "0" : "") + (s % 60);
  }

  function say(text) {
    // Clearing first makes a repeated sentence be announced again.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function running() { return ticker !== null; }

  function render() {
    display.textContent = clock(remaining);
    holdsLabel.textContent = t("hold-of", "Hold {hold} of {holds}", {hold: hold, holds: holds}) +
      (perSide ? " " + (hold % 2 ? t("first-side", "(first side)") : t("second-side", "(second side)")) : "");
  }

  function tick() {
    remaining = endsAt - Date.now();
    if (remaining <= 0) { finish(); return; }
    var elapsed = holdMs - remaining;
    breath.textContent = Math.floor(elapsed / BREATH_MS) % 2 === 0 ?
      t("breathe-in", "Breathe in slowly…") : t("breathe-out", "Breathe out slowly…");
    if (!halfwaySaid && remaining <= holdMs / 2) {
      halfwaySaid = true;
      say(t("halfway", "Halfway. Keep breathing slowly. Stay gentle: no bouncing."));
    } else if (!reminderSaid && remaining <= 10000 && holdMs > 20000) {
      reminderSaid = true;
      say(t("ten-left", "Ten seconds left. Breathe out and let the stretch ease a little further, without pain."));
    }
    render();
  }

  function start() {
    var fresh = remaining === holdMs;
    endsAt = Date.now() + remaining;
    ticker = window.setInterval(tick, 200);
    toggle.textContent = t("pause", "Pause");
    var seconds = Math.round(holdMs / 1000);
    if (fresh) {
      say((holds > 1 ?
        t("started-of", "Hold {hold} of {holds} started: {seconds} seconds.", {hold: hold, holds: holds, seconds: seconds}) :
        t("started", "Hold started: {seconds} seconds.", {seconds: seconds})) + " " + cue);
    } else {
      say(t("resumed", "Resumed."));
    }
    breath.textContent = t("breathe-in", "Breathe in slowly…");
  }

  function pause() {
    window.clearInterval(ticker);
    ticker = null;
    remaining = Math.max(0, endsAt - Date.now());
    toggle.textContent = t("resume", "Resume");
    say(t("paused", "Paused with {seconds} seconds left.", {seconds: Math.ceil(remaining / 1000)}));
    render();
  }

  function clearHold() {
    window.clearInterval(ticker);
    ticker = null;
    remaining = holdMs;
    halfwaySaid = false;
    reminderSaid = false;
  }

  function finish() {
    clearHold();
    remaining = 0;
    render();
    breath.textContent = cue;
    if (hold < holds) {
      hold += 1;
      remaining = holdMs;
      toggle.textContent = t("start-hold", "Start hold {hold} of {holds}", {hold: hold, holds: holds});
      say(perSide ?
        t("done-switch", "Done. Gently let go. Switch sides. Rest for a breath or two, then start hold {hold} of {holds}.",
          {hold: hold, holds: holds}) :
        t("done-next", "Done. Gently let go. Rest for a breath or two, then start hold {hold} of {holds}.",
          {hold: hold, holds: holds}));
    } else {
      toggle.textContent = t("start-again", "Start again");
      say(t("done-last",
        "Done. Gently let go. That was the last hold of this stretch: go on to the next one when you are ready."));
    }
  }

  toggle.addEventListener("click", function () {
    if (running()) { pause(); return; }
    if (remaining <= 0) { hold = 1; remaining = holdMs; }
    start();
  });

  reset.addEventListener("click", function () {
    clearHold();
    toggle.textContent = hold > 1 ?
      t("start-hold", "Start hold {hold} of {holds}", {hold: hold, holds: holds}) : t("start", "Start the hold");
    breath.textContent = cue;
    render();
    say(t("reset", "Timer reset to {seconds} seconds.", {seconds: Math.round(holdMs / 1000)}));
  });

  render();
})();
