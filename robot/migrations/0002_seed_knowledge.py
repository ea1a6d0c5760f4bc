from django.db import migrations

# (question, keywords, answer) in English and Chinese, about HappyChat itself.
FAQ_EN = [
    ("How do I add a friend?", "add friend, add a friend, friend request, new friend",
     "Search for people by username, nickname or e-mail, open their profile and send a "
     "friend request. Once they accept, you can chat one to one."),
    ("How do I accept or reject a friend request?", "accept request, reject request, pending request",
     "Open Friend requests: incoming requests have Accept and Reject buttons. Accepting opens "
     "your direct conversation at once."),
    ("How do I delete a friend?", "delete friend, remove friend, unfriend",
     "Open the friend's profile and choose Delete friend. Neither of you can send in the "
     "direct conversation afterwards; the history stays."),
    ("How do I set a remark for a friend?", "remark, note, rename friend, alias",
     "Open the friend's profile and edit the Remark: only you see it, and it is shown instead "
     "of their nickname."),
    ("How do I create a group?", "create group, new group, make a group, start a group",
     "Choose New group, give it a name and pick friends to invite. You become its owner."),
    ("How do I join or leave a group?", "join group, leave group, quit group, exit group",
     "Search public groups by name and press Join. To leave, open the group details and "
     "press Leave."),
    ("Who can manage a group?", "group admin, group owner, rename group, group notice, remove member",
     "The owner and the admins can rename the group, edit its notice and remove members; only "
     "the owner can dissolve it."),
    ("How do I send a picture?", "send picture, send image, photo, photos, pictures, images, upload image",
     "Press the picture button in a chat and choose a JPEG, PNG, GIF or WebP image up to "
     "10 MB. It is checked and resized before it is sent."),
    ("What are read receipts?", "read receipt, read receipts, seen, unread, read status",
     "When someone opens a conversation, the others see how far they have read. Unread "
     "counts show on your conversation list."),
    ("Do I get messages sent while I was offline?", "offline messages, offline, missed messages, while offline",
     "Yes. Every message is stored before it is acknowledged; when you come back, your "
     "devices sync and you get everything you missed, exactly once."),
    ("Can I use HappyChat on several devices?", "several devices, multiple devices, phone and computer, other device",
     "Yes. Log in on your phone, the web and the app at once; every device gets every "
     "message and your read state stays in sync."),
    ("How do I change my nickname or avatar?", "change nickname, change avatar, edit profile, profile picture",
     "Open your profile (Me) and edit your nickname, avatar, bio, gender or region."),
    ("I did not get the activation e-mail", "activation, activate, activation email, verify email, confirm email",
     "Check your spam folder, then use Resend activation e-mail on the login page. The link "
     "works once and expires after a few days."),
    ("How do I change my password?", "change password, reset password, forgot password",
     "Use Change password in your account settings; if you forgot it, use Forgot password "
     "on the login page. Other devices are logged out."),
    ("How do I report a message?", "report message, report abuse, spam, harassment",
     "Long-press or hover the message and choose Report. Our operators review every report."),
    ("Why was my message blocked?", "message blocked, content blocked, not allowed, masked, ***",
     "HappyChat filters words that are not allowed; some are masked with ***, others block "
     "the message. Rephrase it and send again."),
    ("Is there a dark mode?", "dark mode, night mode, theme",
     "Yes: switch between light and dark in the menu; HappyChat also follows your system "
     "setting."),
    ("What can the robot do?", "robot, happybot, what can you do, who are you",
     "I answer questions about HappyChat, do arithmetic with /calc and tell the time with "
     "/time. Type /help. In a group, mention me with @robot."),
]

FAQ_ZH = [
    ("怎么添加好友？", "添加好友,加好友,好友申请,加朋友",
     "按用户名、昵称或邮箱搜索，打开对方资料并发送好友申请，对方同意后就可以单聊了。"),
    ("怎么同意或拒绝好友申请？", "同意申请,拒绝申请,好友请求,通过好友",
     "打开“好友申请”，收到的申请旁边有“同意”和“拒绝”按钮。同意后会立即打开你们的单聊。"),
    ("怎么删除好友？", "删除好友,删好友,解除好友",
     "打开好友资料，选择“删除好友”。之后双方都不能在单聊里发消息，聊天记录会保留。"),
    ("怎么给好友设置备注？", "备注,改备注,好友备注",
     "打开好友资料编辑“备注”：只有你能看到，会代替对方昵称显示。"),
    ("怎么创建群聊？", "创建群,建群,新建群聊,创建群聊,拉群",
     "选择“新建群聊”，填写群名并选择要邀请的好友，你就是群主。"),
    ("怎么加入或退出群聊？", "加入群,加群,退群,退出群聊,离开群",
     "按群名搜索公开群并点击“加入”。要退出，打开群详情点击“退出群聊”。"),
    ("谁可以管理群？", "群主,群管理员,改群名,群公告,踢人,移除成员",
     "群主和管理员可以修改群名、编辑群公告、移除成员；只有群主可以解散群。"),
    ("怎么发送图片？", "发图片,发送图片,发照片,上传图片",
     "在聊天里点图片按钮，选择不超过 10 MB 的 JPEG、PNG、GIF 或 WebP 图片，发送前会检查并压缩。"),
    ("什么是已读回执？", "已读,已读回执,未读,未读消息",
     "对方打开会话后，其他人能看到他读到了哪里。会话列表会显示未读数。"),
    ("离线时的消息还能收到吗？", "离线消息,离线,错过的消息,不在线",
     "能。每条消息确认前都已保存；你重新上线后，设备会自动同步，错过的消息一条不少、也不会重复。"),
    ("可以多个设备同时登录吗？", "多设备,多个设备,手机和电脑,同时登录",
     "可以。手机、网页和应用可以同时登录，每个设备都会收到所有消息，已读状态也会同步。"),
    ("怎么修改昵称或头像？", "改昵称,修改昵称,改头像,修改头像,个人资料",
     "打开“我”的个人资料，可以修改昵称、头像、签名、性别和地区。"),
    ("收不到激活邮件怎么办？", "激活,激活邮件,验证邮箱,注册邮件",
     "先看看垃圾邮件箱，再在登录页点击“重新发送激活邮件”。链接只能用一次，几天后失效。"),
    ("怎么修改密码？", "改密码,修改密码,忘记密码,重置密码",
     "在账号设置里修改密码；忘记密码可以在登录页点击“忘记密码”。其他设备会被退出登录。"),
    ("怎么举报消息？", "举报,举报消息,骚扰,垃圾消息",
     "长按或悬停在消息上选择“举报”，管理员会审核每一条举报。"),
    ("为什么我的消息被拦截了？", "消息被拦截,被屏蔽,发不出去,敏感词,***",
     "HappyChat 会过滤不允许的词：有些会被替换成 ***，有些会拦截整条消息。换个说法再发吧。"),
    ("有夜间模式吗？", "夜间模式,深色模式,暗黑模式,主题",
     "有，在菜单里切换浅色或深色；HappyChat 也会跟随系统设置。"),
    ("机器人能做什么？", "机器人,你是谁,你能做什么,happybot",
     "我可以回答 HappyChat 的使用问题，用 /calc 做计算，用 /time 报时。输入 /help 查看帮助。"
     "在群里用 @robot 提到我。"),
]

SMALL_TALK = [
    ("en", "hi, hello, hey, hello there, hi there, good morning, good evening",
     "Hello! I'm HappyBot. Ask me anything about HappyChat, or type /help."),
    ("en", "thanks, thank you, thx, thanks a lot", "You're welcome!"),
    ("en", "bye, goodbye, see you, good night", "Bye! Come back any time."),
    ("en", "how are you, how are you doing, how is it going",
     "I'm fine, thanks — always online. How can I help?"),
    ("zh", "你好,您好,嗨,哈喽,早上好,晚上好", "你好！我是 HappyBot，有关 HappyChat 的问题都可以问我，或者输入 /help。"),
    ("zh", "谢谢,多谢,谢谢你,感谢", "不客气！"),
    ("zh", "再见,拜拜,晚安", "再见，随时回来找我！"),
    ("zh", "你好吗,最近怎么样,在吗", "我很好，一直在线。有什么可以帮你？"),
]


def seed(apps, schema_editor):
    FaqEntry = apps.get_model("robot", "FaqEntry")
    SmallTalk = apps.get_model("robot", "SmallTalk")
    FaqEntry.objects.bulk_create(
        [FaqEntry(language="en", question=q, keywords=k, answer=a) for q, k, a in FAQ_EN]
        + [FaqEntry(language="zh", question=q, keywords=k, answer=a) for q, k, a in FAQ_ZH]
    )
    SmallTalk.objects.bulk_create(
        [SmallTalk(language=lang, patterns=p, reply=r) for lang, p, r in SMALL_TALK]
    )


def unseed(apps, schema_editor):
    apps.get_model("robot", "FaqEntry").objects.all().delete()
    apps.get_model("robot", "SmallTalk").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("robot", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
