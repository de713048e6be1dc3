"""What the bot says about curated answers, the review of 👎 votes and content gaps. Staff chats
get both languages in one message; an admin's private chat gets their client's language."""

# Under a staff answer in the staff chat
KEEP_BUTTON = "📌 Use for similar questions · 保存为标准答案"
KEEP_STAFF_BUTTON = "🔒 Staff only · 仅限员工"
STAFF_ONLY = "Only branch staff can do this. 仅限分校工作人员。"
KEPT = (
    "📌 Ticket #{ticket}: saved as curated answer #{curated} ({audience}); the next learner who "
    "asks this gets it. 已保存为标准答案。"
)

CURATED = {
    "none": {
        "en": "No curated answers yet. Staff save one with the button under their answer to a "
        "ticket, admins with /review.",
        "zh": "还没有标准答案。工作人员回复工单后可用按钮保存，管理员也可通过 /review 添加。",
    },
    "page": {
        "en": "<b>Curated answers</b> {first}–{last} of {total}, newest first",
        "zh": "<b>标准答案</b> 第 {first}–{last} 条，共 {total} 条，最新的在前",
    },
    "line": {
        "en": "#{id} [{language}, {audience}] {question}",
        "zh": "#{id} [{language}，{audience}] {question}",
    },
    "show": {
        "en": "<b>Curated answer #{id}</b> ({audience}, approved {day})\n<b>Question:</b> "
        "{question}\n<b>Answer:</b> {answer}",
        "zh": "<b>标准答案 #{id}</b>（{audience}，{day} 批准）\n<b>问题：</b>{question}\n"
        "<b>答案：</b>{answer}",
    },
    "edit": {
        "en": "Send the new text of curated answer #{id} as your next message (within 15 minutes).",
        "zh": "请在 15 分钟内发送标准答案 #{id} 的新内容。",
    },
    "edited": {"en": "Curated answer #{id} updated.", "zh": "标准答案 #{id} 已更新。"},
    "retired": {
        "en": "Curated answer #{id} retired: it is not served any more.",
        "zh": "标准答案 #{id} 已停用，不再提供给用户。",
    },
    "gone": {
        "en": "That curated answer is no longer in service.",
        "zh": "该标准答案已不再使用。",
    },
}
SHOW, EDIT, RETIRE = "👁", "✏️", "🗑"
PREVIOUS, NEXT = "◀", "▶"

REVIEW = {
    "empty": {"en": "No 👎 waiting for review.", "zh": "没有待审核的 👎。"},
    "item": {
        "en": "👎 <b>to review</b>: {waiting} waiting; {similar} on questions like this "
        "one{skipped}\n<b>Question:</b> {question}\n<b>Answer:</b> {answer}\n"
        "<b>Sources:</b> {sources}\nVoted by user {voter}, {when}",
        "zh": "👎 <b>待审核</b>：共 {waiting} 条；类似问题 {similar} 条{skipped}\n<b>问题：</b>"
        "{question}\n<b>回答：</b>{answer}\n<b>来源：</b>{sources}\n投票用户 {voter}，{when}",
    },
    "skipped": {"en": " (skipped before)", "zh": "（曾跳过）"},
    "no_sources": {"en": "none", "zh": "无"},
    "write": {"en": "✍️ Write the right answer", "zh": "✍️ 撰写正确答案"},
    "right": {"en": "✅ The answer was right", "zh": "✅ 回答正确"},
    "skip": {"en": "⏭ Skip", "zh": "⏭ 跳过"},
    "write_prompt": {
        "en": "Send the right answer to “{question}” as your next message (within 15 minutes). "
        "It becomes a curated answer, and the learner who voted gets it.",
        "zh": "请在 15 分钟内发送“{question}”的正确答案。它将成为标准答案，并发送给投票的用户。",
    },
    "corrected": {
        "en": "Saved as curated answer #{id}. {delivery}",
        "zh": "已保存为标准答案 #{id}。{delivery}",
    },
    "delivered": {"en": "The learner who voted got it.", "zh": "已发送给投票的用户。"},
    "later": {
        "en": "Telegram did not take it just now: the learner who voted gets it shortly.",
        "zh": "Telegram 暂时没有接收，稍后会发送给投票的用户。",
    },
    "web": {
        "en": "The learner who voted sees it on their web page.",
        "zh": "投票的用户会在其网页上看到。",
    },
    "undelivered": {
        "en": "The learner who voted could not be reached.",
        "zh": "无法联系到投票的用户。",
    },
    "kept": {"en": "Marked as right.", "zh": "已标记为回答正确。"},
    "settled": {
        "en": "Another admin has already reviewed that vote.",
        "zh": "该投票已由其他管理员处理。",
    },
}
# To the learner who voted 👎, in the language of their question

GAPS = {
    "none": {
        "en": "No abstained, escalated or 👎'd questions in the last {days} days.",
        "zh": "最近 {days} 天没有未回答、转人工或 👎 的问题。",
    },
    "title": {
        "en": "<b>What the documents are missing</b> (last {days} days): {gaps} gaps from "
        "{questions} questions, largest first",
        "zh": "<b>文件缺少的内容</b>（最近 {days} 天）：{questions} 个问题归为 {gaps} 类，"
        "数量多的在前",
    },
    "line": {
        "en": "{rank}. {count}× [{languages}] {reasons}: “{example}” {covered}",
        "zh": "{rank}. {count} 次 [{languages}] {reasons}：“{example}” {covered}",
    },
    "covered": {"en": "— curated answer #{id}", "zh": "— 已有标准答案 #{id}"},
    "uncovered": {"en": "— not covered", "zh": "— 尚无答案"},
    "more": {
        "en": "… and {more} smaller gaps: /gaps csv sends them all.",
        "zh": "……另有 {more} 类较小的缺口：发送 /gaps csv 获取全部。",
    },
    "csv": {"en": "Content gaps, last {days} days", "zh": "内容缺口，最近 {days} 天"},
}
GAP_REASONS = {
    "en": {"abstained": "abstained", "escalated": "escalated", "voted": "👎"},
    "zh": {"abstained": "未回答", "escalated": "转人工", "voted": "👎"},
}
