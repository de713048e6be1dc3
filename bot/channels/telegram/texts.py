"""What the Telegram bot says, in English and Chinese. HTML: anything inserted is escaped."""

_INTRO = {
    "en": (
        "Hello! I answer questions about the Chengdu–Chongqing RTVU Education Alliance: its "
        "charter, credit transfer (credit bank) and shared courses. Answers come from the "
        "alliance's documents and cite them; when the documents do not cover a question, I say "
        "so."
    ),
    "zh": (
        "您好！我回答成渝地区双城经济圈广播电视大学教育联盟的相关问题：联盟章程、学分银行"
        "（学分认定）和共享课程。回答依据联盟文件并注明出处；文件未涉及的问题，我会如实说明。"
    ),
}
EXAMPLES = {
    "en": (
        "<b>Try asking</b>\n• When was the alliance established?\n"
        "• How many credits from other universities can count towards my graduation?\n"
        "• Which online courses does Sichuan RTVU offer?\n• 联盟是什么时候成立的？"
    ),
    "zh": (
        "<b>可以这样问</b>\n• 联盟是什么时候成立的？\n"
        "• 在外校获得的学分最多能抵多少毕业学分？\n"
        "• 秋季有哪些共享课程？\n• When was the alliance established?"
    ),
}
_GROUP_HINT = {
    "en": "In a group, mention me, reply to me or use /ask. /help lists the commands.",
    "zh": "在群组中，请@我、回复我的消息或使用 /ask。/help 列出全部命令。",
}
WELCOME = {
    language: f"{_INTRO[language]}\n\n{EXAMPLES[language]}\n\n{_GROUP_HINT[language]}"
    for language in ("en", "zh")
}
HELP = {
    "en": (
        "<b>Commands</b>\n/ask QUESTION — ask (in groups)\n/courses [filter] — shared courses, "
        "e.g. <i>/courses Chongqing online</i>, <i>/courses spring</i>, <i>/courses 3</i>\n"
        "/new — start a new conversation\n/register CODE — branch staff: register with your "
        "branch's invite code (private chat)\n/branch [name] — choose your branch\n/mytickets — "
        "your questions passed to a person\n\nIn a private chat, just type your question. "
        "Under each answer: 👍 / 👎 tell us whether it helped, <i>Sources</i> shows the cited "
        "passages, <i>Ask a person</i> passes it to branch staff (where the alliance has set "
        "that up). In a staff chat, /tickets lists the open tickets; reply to one to answer."
    ),
    "zh": (
        "<b>命令</b>\n/ask 问题 —— 提问（群组中使用）\n/courses [条件] —— 共享课程，例如 "
        "<i>/courses 重庆 线上</i>、<i>/courses 春季</i>、<i>/courses 3</i>\n/new —— 开始新的对话\n"
        "/register 邀请码 —— 分校工作人员使用本分校邀请码登记（请在私聊中发送）\n"
        "/branch [名称] —— 选择所属分校\n/mytickets —— 我的转人工工单\n\n"
        "私聊中直接输入问题即可。每条回答下方：👍 / 👎 反馈是否有帮助，<i>来源</i> 查看引用的原文，"
        "<i>转人工</i> 将问题转给分校工作人员（如已开通）。"
        "在工作人员群中，/tickets 列出待处理工单，回复工单消息即可答复。"
    ),
}
ADMIN_HELP = {
    "en": "\n\n<b>Admin</b>\n/reindex — re-read the knowledge folder\n/stats — usage figures\n"
    "/weblogin — a one-time link to the web console",
    "zh": "\n\n<b>管理员</b>\n/reindex —— 重新导入知识库\n/stats —— 使用统计\n"
    "/weblogin —— 网页管理后台登录链接",
}
COMMANDS = {
    "en": [
        ("start", "Welcome and example questions"),
        ("help", "Commands and how to ask"),
        ("ask", "Ask a question (in groups)"),
        ("courses", "Shared courses, filtered by university, semester, mode or credits"),
        ("new", "Start a new conversation"),
        ("register", "Branch staff: register with an invite code"),
        ("branch", "Choose your branch (for questions passed to a person)"),
        ("mytickets", "Your questions passed to a person"),
    ],
    "zh": [
        ("start", "欢迎与示例问题"),
        ("help", "命令与使用说明"),
        ("ask", "提问（群组中使用）"),
        ("courses", "共享课程，可按学校、学期、方式或学分筛选"),
        ("new", "开始新的对话"),
        ("register", "分校工作人员：使用邀请码登记"),
        ("branch", "选择所属分校（用于转人工）"),
        ("mytickets", "我的转人工工单"),
    ],
}
ADMIN_COMMANDS = {
    "en": [
        ("reindex", "Re-read the knowledge folder"),
        ("stats", "Usage figures and chart"),
        ("review", "Review 👎 answers"),
        ("curated", "Curated answers"),
        ("gaps", "What the documents are missing"),
        ("weblogin", "A one-time link to the web console"),
    ],
    "zh": [
        ("reindex", "重新导入知识库"),
        ("stats", "使用统计与图表"),
        ("review", "审核 👎 的回答"),
        ("curated", "标准答案"),
        ("gaps", "文件缺少的内容"),
        ("weblogin", "网页管理后台的一次性登录链接"),
    ],
}
TEXT_ONLY = {
    "en": "I can only read text questions. Please type your question.",
    "zh": "我只能阅读文字问题，请直接输入您的问题。",
}
ASK_WHAT = {
    "en": "Please add your question after /ask, for example: /ask What is the credit bank?",
    "zh": "请在 /ask 后面加上问题，例如：/ask 什么是学分银行？",
}
NEW_CONVERSATION = {
    "en": "Starting over: earlier questions no longer count as context.",
    "zh": "已开始新的对话，之前的问题不再作为上下文。",
}
SOURCES_BUTTON = {"en": "Sources", "zh": "来源"}
ASK_PERSON_BUTTON = {"en": "Ask a person", "zh": "转人工"}
EXPIRED = {
    "en": "This answer is no longer on record.",
    "zh": "这条回答的记录已不存在。",
}
ADMINS_ONLY = {
    "en": "Only admins can use this command.",
    "zh": "只有管理员可以使用此命令。",
}
WEBLOGIN = {
    "en": "🔑 Your sign-in link to the admin console, for {minutes} minutes and one use:\n"
    "{link}\nDo not forward it: whoever opens it first is signed in as you.",
    "zh": "🔑 管理后台登录链接，{minutes} 分钟内有效，仅可使用一次：\n{link}\n"
    "请勿转发：最先打开链接的人将以您的身份登录。",
}
UPLOAD_BUTTONS = {
    "en": {
        "public": "Everyone",
        "staff": "Staff only",
        "zh": "中文",
        "en": "English",
        "replace": "Replace it",
        "cancel": "Cancel",
    },
    "zh": {
        "public": "所有人",
        "staff": "仅限工作人员",
        "zh": "中文",
        "en": "English",
        "replace": "替换",
        "cancel": "取消",
    },
}
UPLOAD: dict[str, dict[str, str]] = {
    "exists": {
        "en": "📄 An upload named <b>{name}</b> is in the knowledge base already. Replace it "
        "with this one?",
        "zh": "📄 知识库中已有名为 <b>{name}</b> 的上传文件。要用这个文件替换它吗？",
    },
    "cancelled": {
        "en": "📄 {name}: not added; the earlier upload stays as it was.",
        "zh": "📄 {name}：未添加，原有的上传文件保持不变。",
    },
    "audience": {
        "en": "📄 <b>{name}</b>: who may read it?",
        "zh": "📄 <b>{name}</b>：谁可以阅读？",
    },
    "language": {"en": "📄 <b>{name}</b>: its language?", "zh": "📄 <b>{name}</b>：文件语言？"},
    "title": {
        "en": "📄 Its title? Press the button to use <b>{name}</b>, or send the title.",
        "zh": "📄 标题是什么？按按钮使用 <b>{name}</b>，或直接发送标题。",
    },
    "added": {
        "en": "✅ Added <code>{path}</code>; indexing it now.",
        "zh": "✅ 已添加 <code>{path}</code>，正在导入。",
    },
    "refused": {
        "en": "⚠️ The document was not added: {reason}.",
        "zh": "⚠️ 文件未添加：{reason}。",
    },
}
PRIVATE_ONLY = {
    "en": "Please use this command in your private chat with the bot.",
    "zh": "请在与机器人的私聊中使用此命令。",
}
REINDEX = {
    "start": {"en": "⏳ Re-indexing the knowledge folder…", "zh": "⏳ 正在重新导入知识库……"},
    "reading": {
        "en": "⏳ Reading documents: {done}/{total}",
        "zh": "⏳ 正在读取文件：{done}/{total}",
    },
    "embedding": {
        "en": "⏳ Embedding passages: {done}/{total}",
        "zh": "⏳ 正在计算段落向量：{done}/{total}",
    },
    "publishing": {"en": "⏳ Publishing the new index…", "zh": "⏳ 正在发布新索引……"},
    "busy": {
        "en": "A re-index is already running; its result will appear here when it ends.",
        "zh": "已有重新导入正在进行，完成后会显示结果。",
    },
    "done": {
        "en": "✅ Re-index done: {added} added, {updated} updated, {removed} removed, "
        "{unchanged} unchanged; {chunks} passages. Index version {version}.",
        "zh": "✅ 重新导入完成：新增 {added}，更新 {updated}，删除 {removed}，未变 {unchanged}；"
        "共 {chunks} 个段落。索引版本 {version}。",
    },
    "skipped": {"en": "Skipped {count} file(s):", "zh": "跳过 {count} 个文件："},
    "failed": {
        "en": "❌ Re-index failed, nothing was published: {reason}",
        "zh": "❌ 重新导入失败，未发布任何内容：{reason}",
    },
}
STATS = {
    "title": {"en": "<b>Last {days} days</b>", "zh": "<b>最近 {days} 天</b>"},
    "day": {
        "en": "{day}: {questions} questions, {abstained} not covered, {escalated} escalated",
        "zh": "{day}：{questions} 个问题，{abstained} 个未覆盖，{escalated} 个转人工",
    },
    "votes": {  # after a day's line, when that day had votes
        "en": ", votes: {votes} (👍 {helpful} / 👎 {unhelpful})",
        "zh": "，评价：{votes}（👍 {helpful} / 👎 {unhelpful}）",
    },
    "none": {"en": "No questions yet.", "zh": "暂无提问。"},
    "chart": {"en": "Last {days} days", "zh": "最近 {days} 天"},
    "total": {
        "en": "Abstention rate: {rate}\nFeedback: 👍 {helpful} / 👎 {unhelpful}\n"
        "Registered staff: {staff}\nIndex version: {version}",
        "zh": "未覆盖比例：{rate}\n反馈：👍 {helpful} / 👎 {unhelpful}\n已登记工作人员：{staff}\n"
        "索引版本：{version}",
    },
}
