// Starts the rasa-webchat widget on the Rasa server's socket.io channel, in the page's
// language: customData.language reaches the bot as message metadata (bot/channels/website.py).
"use strict";
(function () {
  var box = document.getElementById("webchat");
  if (!window.WebChat) {
    box.textContent = box.dataset.missing;
    return;
  }
  window.WebChat.default({
    selector: "#webchat",
    initPayload: "/greet",
    customData: { language: box.dataset.language },
    socketUrl: window.location.origin,
    socketPath: "/socket.io/",
    title: box.dataset.chatTitle,
    subtitle: box.dataset.chatSubtitle,
    inputTextFieldHint: box.dataset.hint,
    connectingText: box.dataset.connecting,
    params: { storage: "local" },  // session persistence: the same conversation across pages
    showMessageDate: true,
  }, null);
})();
