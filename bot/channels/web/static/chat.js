// The web chat: asks through /api/ask, draws answers with their numbered sources, votes,
// passes a question to a person (with a contact, if the learner leaves one) and shows staff
// answers as they come. The conversation (its turns, tickets and staff answers) is kept in the
// browser for WEB_KEEP_CONVERSATION_DAYS, so a reload or a new tab shows it again: the page
// never hides the context the server answers follow-ups in. Every text is set with
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
  const suggestions = document.getElementById("suggestions");
  const KEY = "alliance-chat";
  const keepMs = Number(t.keepDays || 0) * 86400000;
  const store = keepMs > 0 ? window.localStorage : window.sessionStorage;
  const saved = restore();
  let conversation = saved.conversation;
  let lastReply = saved.lastReply;
  const shown = saved.turns;  // what the page shows, to draw again after a reload
  const tickets = saved.tickets;  // answer id -> ticket number
  let polling = null;

  function restore() {
    try {
      const found = JSON.parse(store.getItem(KEY) || "null");
      if (found && (keepMs <= 0 || Date.now() - found.savedAt < keepMs)) return found;
    } catch (error) { /* unreadable: start afresh */ }
    store.removeItem(KEY);
    return { conversation: null, lastReply: 0, turns: [], tickets: {} };
  }

  function save() {
    const state = { conversation, lastReply, turns: shown, tickets, savedAt: Date.now() };
    try { store.setItem(KEY, JSON.stringify(state)); } catch (error) { /* full or off */ }
  }
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
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  // A refusal's own words ({"detail": "..."}), else the page's "something went wrong".
  async function failure(response) {
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    return new Error(data && typeof data.detail === "string" ? data.detail : t.failed);
  }

  // /api/ask/stream: the "looking it up" line at once, each paragraph as it comes, then the
  // answer whole (its sources and ids); an error event rejects as a refused post would.
  async function askStreaming(question, li, waiting) {
    const response = await fetch("/api/ask/stream?lang=" + t.lang, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ question: question, conversation_id: conversation }),
    });
    if (!response.ok || !response.body) throw await failure(response);
    const live = el("div", "live");
    li.appendChild(live);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let answer = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = (/^event: (.+)$/m.exec(block) || [])[1];
        const data = JSON.parse((/^data: (.*)$/m.exec(block) || [, "null"])[1]);
        if (name === "thinking") waiting.textContent = data.text;
        else if (name === "delta") { waiting.remove(); paragraphs(live, data.text, "live"); }
        else if (name === "answer") answer = data;
        else if (name === "error") { live.remove(); throw new Error(data.detail); }
      }
    }
    live.remove();
    if (answer === null) throw new Error(t.failed);
    return answer;
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
    status.dataset.answerId = data.answer_id;
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
    person.disabled = data.answer_id in tickets;
    person.addEventListener("click", () => {
      person.hidden = true;
      bar.after(personForm(data, person, status));
    });
    bar.appendChild(person);
    bar.appendChild(status);
    return bar;
  }

  // What "Ask a person" shares, and an optional contact, before anything is sent.
  function personForm(data, person, status) {
    const form = el("div", "person-form");
    form.appendChild(el("p", "", t.personShares));
    const contact = el("input", "contact");
    contact.type = "text";
    contact.maxLength = 100;
    contact.autocomplete = "email";
    contact.placeholder = t.contactPlaceholder;
    contact.setAttribute("aria-label", t.contactPlaceholder);
    const go = el("button", "primary send-person", t.sendPerson);
    go.type = "button";
    const cancel = el("button", "", t.cancel);
    cancel.type = "button";
    cancel.addEventListener("click", () => { form.remove(); person.hidden = false; });
    go.addEventListener("click", async () => {
      const left = contact.value.trim();
      const email = /^[^@\s<>]{1,64}@[^@\s<>]{1,100}\.[A-Za-z]{2,24}$/;
      const phone = /^\+?[0-9][0-9 ()-]{5,24}$/;
      if (left && !email.test(left) && !phone.test(left)) {
        contact.setCustomValidity(t.badContact);
        contact.reportValidity();
        return;
      }
      contact.setCustomValidity("");
      go.disabled = true;
      try {
        const chosen = branch && branch.value ? branch.value : null;
        const ticket = await post("/api/person",
          { answer_id: data.answer_id, name: "", branch: chosen, contact: left });
        tickets[data.answer_id] = ticket.ticket;
        save();
        form.remove();
        person.hidden = false;
        person.disabled = true;
        const text = ticket.created ? t.personSent : t.personAlready;
        const shared = left ? t.sharedContact.replace("{contact}", left) : t.shared;
        status.textContent = text.replace("{ticket}", ticket.ticket) + " " + shared;
        startPolling();
      } catch (error) {
        status.textContent = error.message;
        go.disabled = false;
      }
    });
    form.append(contact, go, cancel);
    return form;
  }

  // Each ticket's state under the answer it was opened for.
  async function showTickets() {
    if (!conversation || !Object.keys(tickets).length) return;
    const response = await fetch("/api/tickets?conversation_id=" + encodeURIComponent(conversation));
    if (!response.ok) return;
    const states = new Map((await response.json()).map((row) => [row.ticket, row.state]));
    for (const [answerId, number] of Object.entries(tickets)) {
      const status = turns.querySelector('.status[data-answer-id="' + CSS.escape(answerId) + '"]');
      const state = states.get(number);
      const template = state && t["ticket" + state[0].toUpperCase() + state.slice(1)];
      if (status && template) status.textContent = template.replace("{ticket}", number);
    }
  }

  function drawQuestion(question) {
    addTurn("question", t.you).appendChild(el("p", "", question));
  }

  function drawReply(reply) {
    const branch = reply.branch || t.allianceStaff;
    const label = reply.kind === "correction"
      ? t.staffCorrection.replace("{branch}", branch).replace("{question}", reply.question)
      : t.staffAnswer.replace("{branch}", branch).replace("{ticket}", reply.ticket);
    const li = addTurn("answer staff", label);
    paragraphs(li, reply.text, "r" + reply.id);
  }

  async function ask(question) {
    if (suggestions) suggestions.hidden = true;
    drawQuestion(question);
    const li = addTurn("answer pending", t.assistant);
    const waiting = el("p", "thinking", t.thinking);
    li.appendChild(waiting);
    send.disabled = true;
    try {
      const data = await askStreaming(question, li, waiting);
      conversation = data.conversation_id;
      shown.push({ q: question }, { a: data });
      save();
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
      shown.push({ r: reply });
      save();
      drawReply(reply);
    }
    await showTickets();
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
  if (suggestions) {  // a suggestion asks at once, as the script does (the form without it)
    suggestions.addEventListener("submit", (event) => {
      event.preventDefault();
      ask(new FormData(event.target).get("question"));
    });
    suggestions.hidden = shown.length > 0;
  }
  fresh.addEventListener("click", () => {
    conversation = null;
    lastReply = 0;
    shown.length = 0;
    for (const key of Object.keys(tickets)) delete tickets[key];
    store.removeItem(KEY);
    turns.textContent = "";
    fresh.hidden = true;
    if (suggestions) suggestions.hidden = false;
    box.focus();
  });
  // What this device kept of the conversation, drawn again (a reload, a new tab).
  for (const turn of shown) {
    if (turn.q !== undefined) drawQuestion(turn.q);
    else if (turn.a) drawAnswer(addTurn("answer", t.assistant), turn.a);
    else if (turn.r) drawReply(turn.r);
  }
  if (conversation) { fresh.hidden = false; startPolling(); pollReplies(); }
})();
