// The login link's viewer: shows the headless page's frames and sends clicks, taps, scrolls and keys.
"use strict";
(function () {
  const screen = document.getElementById("screen");
  const status = document.getElementById("status");
  const notice = document.getElementById("notice");
  const keyboard = document.getElementById("keyboard");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + location.pathname + "/ws");
  ws.binaryType = "blob";
  let frameUrl = null, statusText = "", left = null, ended = false, noticeTimer = null;

  function send(message) { if (ws.readyState === WebSocket.OPEN && !ended) ws.send(JSON.stringify(message)); }
  function clock() {
    if (ended || left === null) return;
    const m = Math.floor(left / 60), s = Math.floor(left % 60);
    status.textContent = statusText + " Time left: " + m + ":" + String(s).padStart(2, "0");
  }
  setInterval(function () { if (left !== null && left > 0) left -= 1; clock(); }, 1000);

  ws.onmessage = function (event) {
    if (typeof event.data !== "string") {
      const url = URL.createObjectURL(event.data);
      screen.onload = function () { if (frameUrl && frameUrl !== url) URL.revokeObjectURL(frameUrl); frameUrl = url; };
      screen.src = url;
      return;
    }
    const message = JSON.parse(event.data);
    if (message.type === "notice") {
      notice.textContent = message.text; notice.hidden = false;
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(function () { notice.hidden = true; }, 4000);
      return;
    }
    if (message.type === "end") { end(message.text); return; }
    statusText = message.text; left = message.left; clock();
  };
  ws.onclose = function () {
    if (!ended) end("Disconnected: this link no longer works. The login ended, or the connection to the tool dropped; " +
                    "whoever runs the tool at the terminal sees how it ended and can start a new link.");
  };
  // The end: what happened, in the status line; no keyboard box, no notice over it.
  function end(text) {
    ended = true;
    document.body.classList.add("ended");
    status.textContent = text;
    notice.hidden = true;
    keyboard.blur();
  }

  function at(event) {
    const r = screen.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (event.clientX - r.left) / r.width)),
             y: Math.min(1, Math.max(0, (event.clientY - r.top) / r.height)) };
  }
  // A mouse is sent as it moves; a touch becomes a click when it stays put, a scroll when it swipes.
  let touchStart = null, pressed = false;
  screen.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    if (event.pointerType === "touch") { touchStart = { x: event.clientX, y: event.clientY, p: at(event) }; return; }
    if (event.button !== 0) return;
    pressed = true;
    send(Object.assign({ type: "mouse", action: "down" }, at(event)));
  });
  screen.addEventListener("pointermove", function (event) {
    if (event.pointerType !== "touch" && pressed) send(Object.assign({ type: "mouse", action: "move" }, at(event)));
  });
  screen.addEventListener("pointerup", function (event) {
    event.preventDefault();
    if (event.pointerType === "touch" && touchStart) {
      const dx = event.clientX - touchStart.x, dy = event.clientY - touchStart.y;
      if (Math.abs(dx) < 10 && Math.abs(dy) < 10) {
        send(Object.assign({ type: "mouse", action: "down" }, touchStart.p));
        send(Object.assign({ type: "mouse", action: "up" }, touchStart.p));
      } else {
        const scale = screen.naturalWidth / screen.getBoundingClientRect().width || 1;
        send(Object.assign({ type: "wheel", dx: -dx * scale, dy: -dy * scale }, touchStart.p));
      }
      touchStart = null;
      return;
    }
    if (!pressed) return;
    pressed = false;
    send(Object.assign({ type: "mouse", action: "up" }, at(event)));
  });
  screen.addEventListener("wheel", function (event) {
    event.preventDefault();
    send(Object.assign({ type: "wheel", dx: event.deltaX, dy: event.deltaY }, at(event)));
  }, { passive: false });
  screen.addEventListener("contextmenu", function (event) { event.preventDefault(); });

  const KEYS = ["Backspace", "Tab", "Enter", "Escape", "Delete", "ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown"];
  function key(event) {
    if (KEYS.indexOf(event.key) >= 0) { event.preventDefault(); send({ type: "key", key: event.key }); return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.target === keyboard || event.ctrlKey || event.metaKey || event.altKey) return;
    if (key(event)) return;
    if (event.key.length === 1) { event.preventDefault(); send({ type: "text", text: event.key }); }
  });
  // Phones type through a real text box: what lands in it is sent, then the box is emptied.
  keyboard.addEventListener("keydown", function (event) { key(event); });
  keyboard.addEventListener("input", function () {
    if (keyboard.value) send({ type: "text", text: keyboard.value });
    keyboard.value = "";
  });
})();
