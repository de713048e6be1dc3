// The web chat: asks through /api/ask, draws answers with their numbered sources, votes,
// passes a question to a person and shows staff answers as they come. Every text is set with
// textContent: nothing the server or a user sent is ever parsed as HTML.
"use strict";
(function () {
  const chat = document.getElementById("chat");
  if (!chat) return;
  const t = chat.dataset;
  const turns = document.getElementById("turns");
  const form = document.getElementById("ask");
  const box = document.getElementById("question");
  const send = document.getElementById("send");
  const fresh = document.getElementById("new");
  const branch = document.getElementById("branch");
  const store = window.sessionStorage;
  let conversation = store.getItem("conversation") || null;
  let lastReply = Number(store.getItem("lastReply") || 0);
  let polling = null;
  if (branch) {  // the branch chosen before, on this device
    branch.value = window.localStorage.getItem("branch") || "";
    branch.addEventListener("change", () => window.localStorage.setItem("branch", branch.value));
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addTurn(kind, who) {
    const li = el("li", "turn " + kind);
    li.appendChild(el("span", "who", who));
    turns.appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }

  // "[n]" in the text becomes a link to source n; everything else stays text.
  function paragraphs(node, text, prefix) {
    for (const part of text.split("\n\n")) {
      if (!part.trim()) continue;
      const p = el("p");
      const pieces = part.split(/(\[\d{1,2}\])/);
      for (const piece of pieces) {
        const cite = /^\[(\d{1,2})\]$/.exec(piece);
        if (cite) {
          const a = el("a", "cite", piece);
          a.href = "#" + prefix + "-" + cite[1];
          a.addEventListener("click", () => {
            const details = node.querySelector("details.sources");
            if (details) details.open = true;
          });
          p.appendChild(a);
        } else {
          p.appendChild(document.createTextNode(piece));
        }
      }
      node.appendChild(p);
    }
  }

  async function post(url, body) {
    const response = await fetch(url + "?lang=" + t.lang, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const detail = data && typeof data.detail === "string" ? data.detail : t.failed;
      throw new Error(detail);
    }
    return data;
  }

  function drawAnswer(li, data) {
    const prefix = "a" + data.answer_id.split(".")[0];
    li.dataset.answerId = data.answer_id;
    if (data.abstained) {
      li.classList.add("abstained");
      li.appendChild(el("p", "badge", t.notCovered));
    }
    paragraphs(li, data.answer, prefix);
    if (data.sources.length) {
      const details = el("details", "sources");
      details.appendChild(el("summary", "", t.sources + " (" + data.sources.length + ")"));
      const list = el("ol");
      data.sources.forEach((source, i) => {
        const item = el("li", "", [source.title, source.section].filter(Boolean).join(" › "));
        item.id = prefix + "-" + (i + 1);
        if (source.status === "sample") item.appendChild(el("em", "", " (" + t.sample + ")"));
        if (source.audience === "staff") item.appendChild(el("strong", "staff-source", " " + t.staffSource));
        list.appendChild(item);
      });
      details.appendChild(list);
      details.addEventListener("toggle", () => showPassages(details, data.answer_id), { once: true });
      li.appendChild(details);
    }
    li.appendChild(actions(data));
  }

  async function showPassages(details, answerId) {
    const response = await fetch("/api/passages?answer_id=" + encodeURIComponent(answerId));
    if (!response.ok) return;
    const passages = await response.json();
    const items = details.querySelectorAll("li");
    passages.forEach((passage, i) => {
      if (items[i]) items[i].appendChild(el("blockquote", "", passage.text));
    });
  }

  function actions(data) {
    const bar = el("div", "actions");
    const status = el("span", "status");
    status.setAttribute("role", "status");
    for (const [vote, label, mark] of [[1, t.helpful, "👍"], [-1, t.unhelpful, "👎"]]) {
      const button = el("button", "vote", mark);
      button.type = "button";
      button.setAttribute("aria-label", label);
      button.title = label;
      button.addEventListener("click", async () => {
        try {
          await post("/api/feedback", { answer_id: data.answer_id, vote: vote });
          bar.querySelectorAll(".vote").forEach((b) => b.setAttribute("aria-pressed", "false"));
          button.setAttribute("aria-pressed", "true");
          status.textContent = t.thanks;
        } catch (error) { status.textContent = error.message; }
      });
      bar.appendChild(button);
    }
    if (!t.person) {  // the staff loop is off here
      bar.appendChild(status);
      return bar;
    }
    const person = el("button", "person", t.person);
    person.type = "button";
    person.addEventListener("click", async () => {
      person.disabled = true;
      try {
        const chosen = branch && branch.value ? branch.value : null;
        const ticket = await post("/api/person", { answer_id: data.answer_id, name: "", branch: chosen });
        const text = ticket.created ? t.personSent : t.personAlready;
        status.textContent = text.replace("{ticket}", ticket.ticket);
        startPolling();
      } catch (error) {
        status.textContent = error.message;
        person.disabled = false;
      }
    });
    bar.appendChild(person);
    bar.appendChild(status);
    return bar;
  }

  async function ask(question) {
    addTurn("question", t.you).appendChild(el("p", "", question));
    const li = addTurn("answer pending", t.assistant);
    const waiting = el("p", "thinking", t.thinking);
    li.appendChild(waiting);
    send.disabled = true;
    try {
      const data = await post("/api/ask", { question: question, conversation_id: conversation });
      conversation = data.conversation_id;
      store.setItem("conversation", conversation);
      fresh.hidden = false;
      waiting.remove();
      li.classList.remove("pending");
      drawAnswer(li, data);
    } catch (error) {
      waiting.remove();
      li.classList.remove("pending");
      li.appendChild(el("p", "error", error.message));
      if (!box.value) box.value = question;  // refused or failed: nothing typed is lost
    } finally {
      send.disabled = false;
      box.focus();
    }
  }

  async function pollReplies() {
    if (!conversation) return;
    const url = "/api/replies?conversation_id=" + encodeURIComponent(conversation) + "&after=" + lastReply;
    const response = await fetch(url);
    if (!response.ok) return;
    for (const reply of await response.json()) {
      lastReply = Math.max(lastReply, reply.id);
      store.setItem("lastReply", String(lastReply));
      const branch = reply.branch || t.allianceStaff;
      const label = reply.kind === "correction"
        ? t.staffCorrection.replace("{branch}", branch).replace("{question}", reply.question)
        : t.staffAnswer.replace("{branch}", branch).replace("{ticket}", reply.ticket);
      const li = addTurn("answer staff", label);
      paragraphs(li, reply.text, "r" + reply.id);
    }
  }

  function startPolling() {
    if (polling === null) polling = window.setInterval(pollReplies, 5000);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = box.value.trim();
    if (!question) { box.setCustomValidity(t.empty); box.reportValidity(); return; }
    box.setCustomValidity("");
    box.value = "";
    ask(question);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  fresh.addEventListener("click", () => {
    conversation = null;
    store.removeItem("conversation");
    turns.textContent = "";
    fresh.hidden = true;
    box.focus();
  });
  if (conversation) { fresh.hidden = false; startPolling(); pollReplies(); }
})();
