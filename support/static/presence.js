// Case page: tell the desk this agent has the case open (every few seconds) and show who
// else has it open or is writing a reply (Zammad's collision indicator). No websockets:
// one small JSON POST per beat; the server forgets a beat after its TTL, and a closing
// page says goodbye with sendBeacon so it disappears at once.
(function () {
  "use strict";
  var box = document.getElementById("presence");
  if (!box || !window.fetch) return;
  var reply = document.getElementById("message-body");
  var typedAt = 0, timer = null, stopped = false;
  var pollMs = Math.max(1, parseInt(box.dataset.pollSeconds, 10) || 15) * 1000;
  if (reply) reply.addEventListener("input", function () { typedAt = Date.now(); });

  function show(others) {
    box.textContent = "";
    others.forEach(function (other) {
      var line = document.createElement("p");
      line.className = "viewer" + (other.writing ? " writing" : "");
      line.textContent = other.text;
      box.appendChild(line);
    });
    box.hidden = others.length === 0;
  }

  function beat() {
    if (stopped) return;
    var writing = !!(reply && reply.value.trim() && Date.now() - typedAt < 2 * pollMs);
    fetch(box.dataset.url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
      body: JSON.stringify({writing: writing})
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer) show(answer.others);
    }).catch(function () { /* offline for a moment: the next beat tries again */ })
      .then(function () { if (!stopped) timer = setTimeout(beat, pollMs); });
  }

  window.addEventListener("pagehide", function () {
    stopped = true;
    clearTimeout(timer);
    var goodbye = new FormData();
    goodbye.append("csrf_token", box.dataset.csrf);
    if (navigator.sendBeacon) navigator.sendBeacon(box.dataset.leaveUrl, goodbye);
  });
  beat();
})();
