// The console's live parts: the re-index progress bar, polled while a run is under way. The
// status comes phrased in the page's language; the script adds only the figures. A run that
// ends while the page watches reloads it, so the table shows what the new index holds.
"use strict";
(function () {
  const section = document.getElementById("reindex");
  if (!section) return;
  const bar = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  const button = document.getElementById("reindex-button");
  let watched = false;  // this page saw the run under way
  async function poll() {
    const response = await fetch("/admin/reindex/status");
    if (!response.ok) return;
    const state = await response.json();
    button.disabled = state.running;
    if (state.running) {
      watched = true;
      bar.hidden = false;
      bar.max = Math.max(state.total, 1);
      bar.value = state.done;
      text.textContent = state.stage + (state.total ? " " + state.done + " / " + state.total : "");
      window.setTimeout(poll, 700);
    } else if (watched) {
      window.location.reload();
    } else {
      bar.hidden = true;
      text.textContent = state.result;
      section.dataset.done = state.result ? "true" : "false";
    }
  }
  poll();
})();
