/* /try: a phone and a text conversation in the browser. The server plays the line's
   TwiML (the same follower as `ivr-line call`); this script shows and speaks what the line
   said, sends what the caller does, and waits as a phone does. No library, no build. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var synth = window.speechSynthesis || null;
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition || null;
  var KEY_NAMES = { "*": "star", "#": "hash" };

  var call = { on: false, waiting: false, timeout: 5, lang: "en-GB", silence: false };
  var busy = false;
  var run = 0;            // bumps on every barge-in: stale speech and timers stop
  var timer = null;

  // --- talking to the server -------------------------------------------------------
  function post(path, body) {
    return fetch("/try/" + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.text().then(function (text) {
        var data;
        try { data = JSON.parse(text); } catch (e) { data = { error: text.trim() || "The line did not answer (" + r.status + ")." }; }
        if (!r.ok && !data.error) { data.error = "The line did not answer (" + r.status + ")."; }
        return data;
      });
    }, function () { return { error: "The page could not reach the line. Is it running?" }; });
  }

  function problem(message) {
    var p = $("problem");
    p.textContent = message || "";
    p.hidden = !message;
  }

  // --- the transcript --------------------------------------------------------------
  function entry(kind, label, text, lang, dir) {
    var li = document.createElement("li");
    li.className = kind;
    if (label) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = label;
      li.appendChild(who);
    }
    var said = document.createElement("span");
    said.className = "said";
    said.textContent = text;
    if (lang) { said.lang = lang; }
    if (dir) { said.dir = dir; }
    li.appendChild(said);
    $("transcript").appendChild(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  }

  function meta(parent, text) {
    var span = document.createElement("span");
    span.className = "meta";
    span.textContent = text;
    parent.appendChild(span);
  }

  function status(text, waiting) {
    var s = $("status");
    s.textContent = text;
    s.classList.toggle("waiting", !!waiting);
  }

  // --- speaking, as the line's voices would ------------------------------------------
  function voiceFor(lang) {
    if (!synth || !lang) { return null; }
    var want = lang.toLowerCase().replace("_", "-");
    var voices = synth.getVoices();
    var exact = voices.filter(function (v) { return v.lang.toLowerCase().replace("_", "-") === want; });
    if (exact.length) { return exact[0]; }
    var base = want.split("-")[0];
    var near = voices.filter(function (v) { return v.lang.toLowerCase().split(/[-_]/)[0] === base; });
    return near.length ? near[0] : null;
  }

  function stopTalking() {
    run += 1;
    clearTimeout(timer);
    timer = null;
    if (synth) { synth.cancel(); }
  }

  // Each part of each <Say>, in its language and pace, with a pause between menu
  // options; then `done`. Where the browser has no voice (or no sound), an estimate of
  // the speaking time stands in, so the call still waits as long as a phone would.
  function speak(said, done) {
    var mine = run;
    var queue = [];
    said.forEach(function (h) {
      h.parts.forEach(function (part, i) {
        queue.push({ text: part, lang: h.lang, slow: h.slow, pause: i < h.parts.length - 1 ? (h.slow ? 800 : 400) : 200 });
      });
    });
    var aloud = synth && $("aloud").checked;
    function next() {
      if (mine !== run) { return; }
      var item = queue.shift();
      if (!item) { done(); return; }
      var rate = item.slow ? 0.7 : 1;
      var estimate = 1000 + item.text.length * 75 / rate;
      if (!aloud) { timer = setTimeout(next, Math.min(estimate, 1500)); return; }
      var finished = false;
      var finish = function () {
        if (finished) { return; }
        finished = true;
        clearTimeout(fallback);
        timer = setTimeout(next, item.pause);
      };
      var fallback = setTimeout(finish, estimate);
      var u = new SpeechSynthesisUtterance(item.text);
      u.lang = item.lang;
      var voice = voiceFor(item.lang);
      if (voice) { u.voice = voice; }
      u.rate = rate;
      u.onend = finish;
      u.onerror = finish;
      synth.speak(u);
    }
    next();
  }

  // --- the call ----------------------------------------------------------------------
  // Controls follow the call, not each request: disabling a focused control would drop
  // a keyboard user's focus (input while a step is on its way is ignored instead).
  function controls() {
    var live = call.on;
    $("dial").disabled = call.on;
    $("hangup").disabled = !call.on;
    Array.prototype.forEach.call(document.querySelectorAll("#keypad button"), function (b) { b.disabled = !live; });
    $("words").disabled = !live;
    $("say").disabled = !live;
    $("silence").disabled = !live || !call.silence;
    $("listen").disabled = !live;
  }

  function caller() {
    var checked = document.querySelector('input[name="caller"]:checked');
    return checked ? checked.value : "mobile";
  }

  function callerLabel() {
    var checked = document.querySelector('input[name="caller"]:checked');
    return checked ? checked.parentNode.textContent.trim() : "";
  }

  function answered(data) {
    busy = false;
    if (data.error) {
      problem(data.error);
      controls();
      return;
    }
    problem("");
    data.said.forEach(function (h) {
      entry("line", "Line:", h.parts.join("\n"), h.lang, h.dir);
    });
    (data.texts || []).forEach(function (t) {
      entry("event", "", "The line sent a text to the caller's mobile (shown under Text the line).");
      bubble("from-line", t, "Sent during the call");
    });
    call.waiting = data.waiting;
    call.silence = data.silence;
    if (data.ended) {
      call.on = false;
      entry("event", "", "The line hung up.");
    } else {
      call.timeout = data.timeout || 5;
      call.lang = data.speech_lang || call.lang;
    }
    controls();
    if (!call.on) {
      status("Not in a call.");
      if (!document.activeElement || document.activeElement.disabled || document.activeElement === document.body) { $("dial").focus(); }
      speak(data.said, function () {});
      return;
    }
    status("The line is speaking: press a key or answer to interrupt.");
    speak(data.said, wait);
  }

  // After the line has spoken, a phone waits the Gather's timeout, then reports silence.
  function wait() {
    if (!call.on) { return; }
    if (!$("autosilence").checked || !call.silence) {
      status("The line is waiting for a key or words.", true);
      return;
    }
    status("The line is waiting for a key or words (silence in " + call.timeout + " seconds).", true);
    timer = setTimeout(function () {
      if (call.on && !busy) { send({ silence: true }, "(says nothing)"); }
    }, call.timeout * 1000);
  }

  function send(body, shown) {
    if (!call.on || busy) { return; }
    stopTalking();                 // barge-in: the caller's key or word stops the line
    entry("caller", "Caller:", shown);
    busy = true;
    controls();
    status("Sending...");
    post("step", body).then(answered);
  }

  function press(key) {
    var button = document.querySelector('#keypad button[data-key="' + key + '"]');
    if (button) {
      button.classList.add("pressed");
      setTimeout(function () { button.classList.remove("pressed"); }, 150);
    }
    send({ key: key }, "pressed " + (KEY_NAMES[key] || key));
  }

  $("dial").addEventListener("click", function () {
    if (busy) { return; }
    var focused = document.activeElement === $("dial");
    stopTalking();
    busy = true;
    call.on = true;
    controls();
    entry("event", "", "Calling the line as " + callerLabel().toLowerCase() + ".");
    status("Ringing...");
    post("call", { caller: caller() }).then(function (data) {
      if (data.error) { call.on = false; }
      answered(data);
      if (call.on && focused) {
        document.querySelector("#keypad button").focus();
      }
    });
  });

  $("hangup").addEventListener("click", function () {
    stopTalking();
    call.on = false;
    controls();
    entry("event", "", "You hung up.");
    status("Not in a call.");
    $("dial").focus();
    post("hangup", {});
  });

  $("keypad").addEventListener("click", function (e) {
    var key = e.target.getAttribute && e.target.getAttribute("data-key");
    if (key) { press(key); }
  });

  $("speak").addEventListener("submit", function (e) {
    e.preventDefault();
    var words = $("words").value.trim();
    if (!words) { return; }
    $("words").value = "";
    send({ speech: words }, "\u201c" + words + "\u201d");
  });

  $("silence").addEventListener("click", function () { send({ silence: true }, "(says nothing)"); });

  // Keys typed anywhere but in a text box press the keypad.
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || !/^[0-9*#]$/.test(e.key)) { return; }
    var t = e.target;
    if (t && t.matches && t.matches('input[type="text"], textarea, select, [contenteditable="true"]')) { return; }
    if (!call.on || busy) { return; }
    e.preventDefault();
    press(e.key);
  });

  // The browser's own speech recognition, where it has one, in the language the line listens for.
  if (Recognition) {
    $("listen").hidden = false;
    $("listen").addEventListener("click", function () {
      stopTalking();
      var r = new Recognition();
      r.lang = call.lang;
      r.interimResults = false;
      r.maxAlternatives = 1;
      status("Listening...", true);
      r.onresult = function (ev) {
        var words = ev.results[0][0].transcript;
        if (words) { send({ speech: words }, "\u201c" + words + "\u201d"); }
      };
      r.onerror = function () { status("The browser could not hear you: type the words instead.", true); };
      r.start();
    });
  }

  // --- texts -------------------------------------------------------------------------
  function bubble(kind, message, heading) {
    var li = document.createElement("li");
    li.className = kind;
    if (heading) { meta(li, heading); }
    var body = document.createElement("span");
    body.className = "body";
    body.dir = "auto";
    body.textContent = message.body;
    li.appendChild(body);
    meta(li, (kind === "from-me" ? "You: " : "Line: ") + message.encoding + ", " +
      message.segments + (message.segments === 1 ? " segment" : " segments") + ", " +
      message.chars + (message.chars === 1 ? " character" : " characters"));
    $("chat").appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  $("texting").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("body");
    var text = input.value;
    if (!text.trim()) { return; }
    $("send").disabled = true;
    post("text", { body: text }).then(function (data) {
      $("send").disabled = false;
      if (data.error) { problem(data.error); return; }
      problem("");
      input.value = "";
      bubble("from-me", data.sent);
      if (data.reply) {
        bubble("from-line", data.reply);
      } else {
        var li = document.createElement("li");
        li.className = "note";
        li.textContent = data.note;
        $("chat").appendChild(li);
      }
    });
  });

  controls();
}());
