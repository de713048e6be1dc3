// The staff workspace: asks every few seconds whether new tickets came in; shows them at once
// unless an answer is being written, then offers to.
(function () {
  "use strict";
  const section = document.getElementById("tickets");
  const banner = document.getElementById("new-tickets");
  if (!section || !banner) return;
  let shown = Number(section.dataset.latest || "0");

  function writing() {
    return Array.from(document.querySelectorAll("textarea")).some((box) => box.value.trim() !== "");
  }

  async function refresh() {
    const response = await fetch("/workspace", { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("tickets");
    if (!fresh) return;
    section.replaceChildren(...Array.from(fresh.childNodes).map((node) => document.importNode(node, true)));
    shown = Number(fresh.dataset.latest || "0");
    section.dataset.latest = String(shown);
    banner.hidden = true;
  }

  async function check() {
    try {
      const response = await fetch("/workspace/latest", { credentials: "same-origin" });
      if (!response.ok) return;
      const found = await response.json();
      if (found.latest <= shown) return;
      if (writing()) banner.hidden = false;
      else await refresh();
    } catch (error) { /* offline for a moment: the next check tries again */ }
  }

  document.getElementById("show-new").addEventListener("click", refresh);
  window.setInterval(check, 5000);
})();
