// The embeddable chat: a branch's page adds
//   <script src="https://ASSISTANT/static/widget.js" defer></script>
// and gets a button that opens the chat (ASSISTANT/embed) in a frame, if the page's origin is
// one of WEB_EMBED_ORIGINS (elsewhere the frame would be refused, so no button shows; the
// script tag's data-state says which). Styles are set from script properties (CSSOM), which a
// strict Content-Security-Policy on the host page allows.
"use strict";
(function () {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const lang = (script.dataset.lang || navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
  const label = lang === "zh" ? "咨询联盟助手" : "Ask the Alliance Assistant";
  const close = lang === "zh" ? "关闭" : "Close";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  Object.assign(button.style, { position: "fixed", right: "1rem", bottom: "1rem", zIndex: "2147483000",
    padding: ".7rem 1rem", borderRadius: "2rem", border: "0", background: "#0b5cad", color: "#fff",
    font: "600 15px system-ui, sans-serif", cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.25)" });
  let frame = null;
  button.addEventListener("click", () => {
    if (frame === null) {
      frame = document.createElement("iframe");
      frame.src = origin + "/embed?lang=" + lang;
      frame.title = label;
      Object.assign(frame.style, { position: "fixed", right: "1rem", bottom: "4.5rem", zIndex: "2147483000",
        width: "min(25rem, calc(100vw - 2rem))", height: "min(36rem, calc(100vh - 6rem))",
        border: "1px solid #d8dde6", borderRadius: ".8rem", background: "#fff",
        boxShadow: "0 4px 16px rgba(0,0,0,.25)" });
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    const open = !frame.hidden;
    button.textContent = open ? close : label;
    button.setAttribute("aria-expanded", String(open));
  });
  function refused() {
    script.dataset.state = "refused";
    console.warn("Alliance Assistant: " + window.location.origin + " is not in the assistant's " +
      "WEB_EMBED_ORIGINS, so its chat cannot be shown here.");
  }
  fetch(origin + "/embed/allowed", { mode: "cors", credentials: "omit" }).then((response) => {
    if (!response.ok) { refused(); return; }
    document.body.appendChild(button);
    script.dataset.state = "ready";
  }, refused);
})();
