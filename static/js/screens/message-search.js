// Message search results (GET search/messages/): newest first, the words found highlighted,
// "More results" pages on. Used by the list's search box and a chat's info panel; opening a
// result shows its conversation at that message.
import { _, fmt } from "../dom.js";
import { conversationAvatar, listTime, userAvatar } from "../shell/format.js";
import { go } from "../shell/router.js";
import { Avatar, html, useEffect, useState } from "../shell/ui.js";

const PAGE = 20;

/** Open a conversation at a message (the chat loads the history around it). */
export function openAt(store, conversation, seq) {
  store.requestJump(conversation, seq);
  go(`/chats/${conversation}/`);
}

function Snippet({ pieces, fallback }) {
  if (!pieces || !pieces.length) return html`<span class="snippet">${fallback}</span>`;
  return html`<span class="snippet">${pieces.map((p, i) => (p.hit ? html`<mark key=${i}>${p.text}</mark>` : p.text))}</span>`;
}

function ResultRow({ store, message, inConversation }) {
  const conv = store.conversations.get(message.conversation);
  const sender = message.sender.id === store.me.id ? _("You") : store.displayName(message.sender);
  const title = inConversation || !conv ? sender : store.conversationTitle(conv);
  const avatar = inConversation || !conv ? userAvatar(message.sender, sender) : conversationAvatar(conv, title);
  const showSender = !inConversation && conv && conv.kind === "group";
  const open = (e) => {
    e.preventDefault();
    openAt(store, message.conversation, message.seq);
  };
  return html`<li class="row result" data-message=${String(message.id)}>
    <a class="row-link" href=${`/chats/${message.conversation}/`} onClick=${open}
      aria-label=${fmt(_("%(title)s: %(text)s. Show in the chat"), { title, text: message.body })}>
      <${Avatar} spec=${avatar} size="small" />
      <span class="row-main">
        <span class="result-top"><span class="row-title">${title}</span><time class="conv-time">${listTime(message.created_at)}</time></span>
        <span class="row-sub">${showSender ? `${sender}: ` : ""}<${Snippet} pieces=${message.snippet} fallback=${message.body} /></span>
      </span>
    </a>
  </li>`;
}

/** The first page of results for `text` after a short pause in typing: null while waiting. */
export function useMessageSearch(store, text, conversation = null) {
  const key = `${conversation || ""}:${text}`;
  const [result, setResult] = useState({ key: "", page: null });
  useEffect(() => {
    let live = true;
    const timer = setTimeout(async () => {
      let page;
      try {
        page = await store.api.searchMessages(text, { conversation, limit: PAGE });
      } catch {
        page = { results: [], has_more: false, failed: true };
      }
      if (live) setResult({ key, page });
    }, 250);
    return () => { live = false; clearTimeout(timer); };
  }, [key]);
  return result.key === key ? result.page : null;
}

/** The "Messages" results: the first `page` (null while loading), then "More results". */
export function MessageResults({ store, text, page, conversation = null, heading = true }) {
  const [extra, setExtra] = useState({ page: null, results: [], hasMore: null, loading: false, failed: false });
  const mine = extra.page === page ? extra : { page, results: [], hasMore: null, loading: false, failed: false };
  if (!page) return html`<p class="hint pad">${_("Searching…")}</p>`;
  const results = [...(page.results || []), ...mine.results];
  const hasMore = mine.hasMore === null ? Boolean(page.has_more) : mine.hasMore;
  const failed = page.failed || mine.failed;
  const more = async () => {
    const last = results[results.length - 1];
    setExtra({ ...mine, loading: true });
    try {
      const next = await store.api.searchMessages(text, { conversation, before: last.id, limit: PAGE });
      setExtra({ page, results: [...mine.results, ...(next.results || [])], hasMore: Boolean(next.has_more), loading: false, failed: false });
    } catch {
      setExtra({ ...mine, loading: false, failed: true });
    }
  };
  if (!results.length && !failed && !conversation) return null;
  return html`<section class="result-section" data-section="messages" aria-label=${heading ? null : _("Messages")}>
    ${heading ? html`<h2 class="section-title">${_("Messages")}</h2>` : null}
    <ul class="rows" id=${conversation ? "chat-search-results" : "message-results"}>
      ${results.map((m) => html`<${ResultRow} key=${m.id} store=${store} message=${m} inConversation=${Boolean(conversation)} />`)}
    </ul>
    ${mine.loading ? html`<p class="hint pad">${_("Searching…")}</p>` : null}
    ${failed ? html`<p class="hint pad">${_("Could not search messages.")}</p>` : null}
    ${!results.length && !failed && conversation ? html`<p class="empty">${fmt(_("No message matches “%(text)s”."), { text })}</p>` : null}
    ${hasMore && !mine.loading ? html`<div class="pad"><button type="button" class="btn small" id="message-results-more" onClick=${more}>${_("More results")}</button></div>` : null}
  </section>`;
}

/** Search one conversation's history (its info panel). */
export function ChatSearch({ store, conversation }) {
  const [query, setQuery] = useState("");
  const text = query.trim();
  return html`<section class="chat-search" aria-labelledby="chat-search-h">
    <h2 class="section-title" id="chat-search-h">${_("Search chat history")}</h2>
    <div class="search-bar" role="search">
      <label class="visually-hidden" for="chat-search">${_("Search chat history")}</label>
      <input type="search" id="chat-search" class="search-input" placeholder=${_("Search")} value=${query}
        autocomplete="off" onInput=${(e) => setQuery(e.currentTarget.value)} />
    </div>
    ${text ? html`<${ChatSearchResults} store=${store} text=${text} conversation=${conversation} />` : null}
  </section>`;
}

function ChatSearchResults({ store, text, conversation }) {
  const page = useMessageSearch(store, text, conversation);
  return html`<${MessageResults} store=${store} text=${text} page=${page} conversation=${conversation} heading=${false} />`;
}
