// The chat's composer: text with Enter to send, the reply and edit bar, the @ member
// picker, emoji, and images and documents (button, paste, drag and drop) with their
// uploads. Part of the chat screen (chat.js); it reaches the server only through the store.
import { _, fillAvatar, fmt, h } from "../dom.js";
import { EmojiPicker } from "../emoji.js";
import { errorText } from "../shell/api.js";
import { fileSize, isBot } from "../shell/format.js";
import { announce } from "../shell/notify.js";
import { toast } from "../shell/ui.js";
import { MentionPicker } from "./mention-picker.js";

const $ = (id) => document.getElementById(id);
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/** The words for a refused recall, edit or reaction (socket errors carry no HTTP status). */
export function changeError(err, action) {
  const code = err && err.code;
  if (code === "content_blocked") return _("This text is not allowed by the content filter. Please change it.");
  if (code === "permission_denied") {
    return action === "edit" ? _("This message can no longer be edited.") : _("This message can no longer be recalled.");
  }
  if (code === "conflict") return _("This message was recalled.");
  if (code === "network") return _("No connection. Please try again.");
  return (err && err.detail && err.detail !== code && err.detail) || _("Something went wrong. Please try again.");
}

export function createComposer({ store, emojiUrl, currentView, scrollToBottom, renderPending, onSent }) {
  const me = store.me;
  const input = $("composer-input");
  let replyTo = null; // the message being answered
  let editing = null; // the message being edited
  let draft = ""; // what the composer held before an edit started

  // --- the reply / edit bar ------------------------------------------------------------

  function renderBar(error = "") {
    const bar = $("composer-bar");
    const target = editing || replyTo;
    bar.hidden = !target;
    $("send-button").textContent = editing ? _("Save") : _("Send");
    if (!target) {
      bar.replaceChildren();
      return;
    }
    const who = target.sender.id === me.id ? _("You") : store.displayName(target.sender);
    const title = editing ? _("Edit message") : fmt(_("Reply to %(name)s"), { name: who });
    bar.replaceChildren(
      h("div", { class: "composer-bar-main" },
        h("span", { class: "composer-bar-title", text: title }),
        h("span", { class: "composer-bar-text", text: store.messageText(target) }),
        error ? h("span", { class: "composer-bar-error error", role: "alert", text: error }) : null),
      h("button", {
        type: "button", class: "icon-btn", id: "composer-bar-cancel",
        "aria-label": editing ? _("Cancel editing") : _("Cancel the reply"), onclick: () => { cancel(); input.focus(); },
      }, "✕"),
    );
  }

  function reply(message) {
    if (editing) cancel();
    replyTo = message;
    renderBar();
    input.focus();
  }

  function edit(message) {
    if (!editing) draft = input.value;
    replyTo = null;
    editing = message;
    input.value = message.body;
    autosize();
    renderBar();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /** Drop the reply or edit in progress; true if there was one. */
  function cancel() {
    const had = Boolean(replyTo || editing);
    if (editing) {
      input.value = draft;
      draft = "";
      autosize();
    }
    replyTo = null;
    editing = null;
    renderBar();
    return had;
  }

  /** A message changed (recalled, edited): keep the bar honest. */
  function messageChanged(message) {
    if (editing && editing.id === message.id && message.recalled) cancel();
    if (replyTo && replyTo.id === message.id) {
      if (message.recalled) cancel();
      else { replyTo = message; renderBar(); }
    }
  }

  // --- sending -------------------------------------------------------------------------

  function mentionsFor(view, body) {
    const conv = store.conversations.get(view.id);
    if (conv.kind !== "group") return { mentions: null, mentionAll: false };
    const role = store.myRole(conv);
    const members = (store.members.get(conv.group) || []).filter((m) => m.user.id !== me.id);
    const { ids, all } = mentions.mentionsIn(body, members, { allowAll: role === "owner" || role === "admin" });
    return { mentions: ids.length ? ids : null, mentionAll: all };
  }

  function submit() {
    const view = currentView();
    const body = input.value.trim();
    if (!view || !body) return;
    if (editing) {
      saveEdit(editing, body);
      return;
    }
    const { mentions: ids, mentionAll } = mentionsFor(view, body);
    store.send({ conversation: view.id, kind: "text", body, replyTo: replyTo ? replyTo.id : null, mentions: ids, mentionAll });
    input.value = "";
    replyTo = null;
    renderBar();
    mentions.reset();
    autosize();
    picker.close();
    onSent();
  }

  async function saveEdit(message, body) {
    if (body === message.body) {
      cancel();
      return;
    }
    $("send-button").disabled = true;
    try {
      await store.edit(message.id, body);
      if (editing && editing.id === message.id) {
        editing = null;
        input.value = draft;
        draft = "";
        autosize();
        renderBar();
      }
    } catch (err) {
      const text = changeError(err, "edit");
      renderBar(text);
      toast(text, { error: true });
    } finally {
      $("send-button").disabled = false;
    }
  }

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
    input.focus();
  });

  input.addEventListener("keydown", (e) => {
    if (mentions.keydown(e)) return;
    if (e.key === "Escape" && (replyTo || editing)) {
      e.stopPropagation();
      cancel();
      return;
    }
    // isComposing: Enter that confirms a Chinese IME candidate must not send.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(160, input.scrollHeight)}px`;
  }

  input.addEventListener("input", () => {
    autosize();
    mentions.update();
    const view = currentView();
    if (view && input.value.trim() && !editing) store.typing(view.id);
  });
  input.addEventListener("click", () => mentions.update());
  input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) mentions.close(); }, 150));

  // --- @ mentions ------------------------------------------------------------------------

  const mentions = new MentionPicker({
    input,
    root: $("mention-picker"),
    onInsert: autosize,
    candidates() {
      const view = currentView();
      const conv = view && store.conversations.get(view.id);
      if (!conv || conv.kind !== "group" || conv.is_active === false) return [];
      const role = store.myRole(conv);
      const list = [];
      if (role === "owner" || role === "admin") {
        const everyone = (document.documentElement.lang || "").startsWith("zh") ? "所有人" : "all";
        list.push({ id: "all", name: everyone, label: _("Everyone"), sub: `@${everyone}` });
      }
      for (const m of store.members.get(conv.group) || []) {
        if (m.user.id === me.id) continue;
        const label = store.displayName(m.user);
        const avatar = fillAvatar(h("span", { class: "avatar small", "aria-hidden": "true" }),
          { name: label, url: m.user.avatar, key: m.user.id, bot: isBot(m.user) });
        list.push({ id: m.user.id, name: m.alias || m.user.nickname || m.user.username, label, sub: `@${m.user.username}`, avatar });
      }
      return list;
    },
  });

  // --- emoji ---------------------------------------------------------------------------

  const picker = new EmojiPicker({
    root: $("emoji-picker"),
    toggle: $("emoji-toggle"),
    dataUrl: emojiUrl,
    onPick(emoji) {
      const start = input.selectionStart ?? input.value.length;
      const end = input.selectionEnd ?? input.value.length;
      input.setRangeText(emoji, start, end, "end");
      input.focus();
      autosize();
    },
  });

  // --- images and documents ------------------------------------------------------------

  let previewFile = null;

  function offerImage(file) {
    if (!file || !currentView()) return;
    $("preview-error").textContent = "";
    if (!IMAGE_TYPES.includes(file.type)) {
      $("preview-error").textContent = _("Only JPEG, PNG, GIF and WebP images can be sent.");
    } else if (file.size > store.limits.image_max_bytes) {
      $("preview-error").textContent = fmt(_("The image is larger than %(size)s."), { size: fileSize(store.limits.image_max_bytes) });
    }
    previewFile = $("preview-error").textContent ? null : file;
    $("preview-send").disabled = !previewFile;
    if (previewFile) $("preview-image").src = URL.createObjectURL(file);
    else $("preview-image").removeAttribute("src");
    $("preview-dialog").showModal();
  }

  /** Any file: images get the preview, everything else goes as a document. */
  function offer(file) {
    if (!file) return;
    if (file.type.startsWith("image/") && IMAGE_TYPES.includes(file.type)) offerImage(file);
    else sendDocument(file);
  }

  $("preview-dialog").addEventListener("close", () => {
    const dialog = $("preview-dialog");
    const view = currentView();
    if (dialog.returnValue === "send" && previewFile && view) {
      startUpload(view, { kind: "image", file: previewFile, preview: $("preview-image").src });
    } else if ($("preview-image").src) {
      URL.revokeObjectURL($("preview-image").src);
    }
    previewFile = null;
    dialog.returnValue = "";
    input.focus();
  });

  function sendDocument(file) {
    const view = currentView();
    if (!view) return;
    const limit = store.limits.file_max_bytes;
    if (file.size > limit) {
      const text = fmt(_("“%(name)s” is larger than %(size)s, the most a file may have."), { name: file.name, size: fileSize(limit) });
      toast(text, { error: true });
      announce(text);
      return;
    }
    if (!file.size) {
      toast(fmt(_("“%(name)s” is empty."), { name: file.name }), { error: true });
      return;
    }
    startUpload(view, { kind: "file", file, name: file.name, size: file.size });
  }

  $("image-button").addEventListener("click", () => $("image-input").click());
  $("image-input").addEventListener("change", (e) => {
    offerImage(e.target.files[0]);
    e.target.value = "";
  });
  $("file-button").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", (e) => {
    sendDocument(e.target.files[0]);
    e.target.value = "";
  });

  input.addEventListener("paste", (e) => {
    const file = [...(e.clipboardData?.files || [])][0];
    if (file) {
      e.preventDefault();
      offer(file);
    }
  });

  const dropZone = $("drop-zone");
  dropZone.addEventListener("dragover", (e) => {
    if ([...(e.dataTransfer?.types || [])].includes("Files")) {
      e.preventDefault();
      $("drop-hint").hidden = false;
    }
  });
  dropZone.addEventListener("dragleave", (e) => {
    if (!dropZone.contains(e.relatedTarget)) $("drop-hint").hidden = true;
  });
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    $("drop-hint").hidden = true;
    const view = currentView();
    if (view && store.conversations.get(view.id).is_active !== false) offer([...(e.dataTransfer?.files || [])][0]);
  });

  async function startUpload(view, item) {
    const upload = { id: `upload-${Date.now()}-${Math.random()}`, state: "uploading", replyTo: replyTo ? replyTo.id : null, ...item };
    if (replyTo) {
      replyTo = null;
      renderBar();
    }
    view.uploads.push(upload);
    renderPending();
    scrollToBottom();
    await runUpload(view, upload);
  }

  async function runUpload(view, upload) {
    try {
      const result = upload.kind === "file" ? await store.api.uploadFile(upload.file) : await store.api.uploadImage(upload.file);
      view.uploads = view.uploads.filter((u) => u !== upload);
      store.send({ conversation: view.id, kind: upload.kind, body: "", attachment: result.id, preview: upload.preview || null, replyTo: upload.replyTo });
    } catch (err) {
      upload.state = "failed";
      // Refused for good (the type, the size, the content): say why and drop it; a
      // network or server failure keeps it, with Retry.
      const refused = err && err.status >= 400 && err.status < 500 && err.status !== 429;
      if (refused) view.uploads = view.uploads.filter((u) => u !== upload);
      const reason = errorText(err, _("upload failed"));
      const text = upload.kind === "file"
        ? fmt(_("The file was not sent: %(reason)s"), { reason })
        : fmt(_("The image was not sent: %(reason)s"), { reason });
      announce(text);
      toast(text, { error: true });
    }
    if (currentView() === view) renderPending();
  }

  function retryUpload(upload) {
    const view = currentView();
    if (!view) return;
    upload.state = "uploading";
    renderPending();
    runUpload(view, upload);
  }

  /** A new conversation opened (or none): no reply, edit or pickers carry over. */
  function reset() {
    if (editing) {
      input.value = draft;
      autosize();
    }
    draft = "";
    replyTo = null;
    editing = null;
    renderBar();
    mentions.reset();
    picker.close();
  }

  return {
    reply, edit, cancel, reset, messageChanged, retryUpload,
    get busy() { return Boolean(replyTo || editing); },
    get pickerOpen() { return mentions.open || !$("emoji-picker").hidden; },
    closePickers() { mentions.close(); picker.close(); },
    focus() { input.focus({ preventScroll: true }); },
  };
}
