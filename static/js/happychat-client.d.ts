// Types for happychat-client.js, the HappyChat JavaScript SDK (browsers, WeChat
// mini-programs, Node). The wire contract is docs/protocol.md; the object shapes below
// follow its §7 ("Objects") and the answers of §6 ("REST"). Servers add fields without a
// version bump: treat every object as possibly carrying more than is declared here.
//
// Needs no `dom` lib and no `@types/node`: platform types (Blob, FormData, WebSocket,
// `wx`) are described by the members the SDK uses, so a browser File, a Node Buffer, the
// `ws` package's WebSocket and miniprogram-api-typings' `wx` all fit.
//
// tests/js/types/ type-checks a small program per platform against this file with
// `tsc --strict`, and tests/js/types/drift.mjs fails when the JS and this file disagree
// about a name (run by tests/test_sdk_types.py).

// --- objects (docs/protocol.md §7) ------------------------------------------------------

/** Ids are positive integers below 2⁶³ (JavaScript numbers are exact up to 2⁵³). */
export type Id = number;
/** ISO 8601 date-time, UTC. */
export type DateTime = string;

export type Gender = "unknown" | "male" | "female" | "other";

/** A person as everyone may see them. */
export interface User {
  id: Id;
  username: string;
  nickname: string;
  /** Public URL (relative to the server unless absolute), or null. */
  avatar: string | null;
  /** Your private name for a friend (REST answers only, where set): show it instead of the nickname. */
  remark?: string;
  /** Present (and true) only on the robot. */
  is_robot?: true;
}

/** Your own profile (`me/`, registration). */
export interface Me extends User {
  email: string;
  bio: string;
  gender: Gender;
  region: string;
}

/** A person's card (`users/<id>/`): profile plus your relationship to them. */
export interface UserCard extends User {
  bio: string;
  region: string;
  gender: Gender;
  is_friend: boolean;
  /** Whether you blocked them. */
  is_blocked: boolean;
}

export interface ImageAttachment {
  id: Id;
  kind: "image";
  /** `/api/v1/uploads/<id>/file/`: needs credentials (docs/protocol.md §6.3). */
  url: string;
  /** `/api/v1/uploads/<id>/thumbnail/` (at most 320 px): needs credentials. */
  thumbnail_url: string;
  width: number;
  height: number;
}

export interface FileAttachment {
  id: Id;
  kind: "file";
  /** `/api/v1/uploads/<id>/file/`: needs credentials; downloads under `name`. */
  url: string;
  name: string;
  /** Bytes. */
  size: number;
  content_type: string;
}

export type Attachment = ImageAttachment | FileAttachment;

/** Kinds a client sends. */
export type ContentKind = "text" | "image" | "file";
/** Kinds of change entries: they change an earlier message (docs/protocol.md §11). */
export type ChangeKind = "recall" | "edit" | "reaction";
export type MessageKind = ContentKind | "system" | ChangeKind;

/** The fixed reaction set (docs/protocol.md §9). */
export type ReactionEmoji = "👍" | "❤️" | "😂" | "😮" | "😢" | "🙏";

export interface Reaction {
  emoji: ReactionEmoji;
  count: number;
  /** User ids, oldest first. */
  users: Id[];
}

/** The quoted original of a reply. */
export interface Quote {
  id: Id;
  seq: number;
  sender: { id: Id; nickname: string };
  kind: MessageKind;
  /** At most 100 characters; empty when recalled. */
  body: string;
  recalled: boolean;
}

/** `data` of a system message (kind "system"): render it in your language; `body` is English. */
export type SystemData =
  | { event: "group_created"; name: string; users: Id[]; by: Id }
  | { event: "member_joined"; user: Id; by: Id | null }
  | { event: "member_left"; user: Id }
  | { event: "member_removed"; user: Id; by: Id }
  | { event: "group_renamed"; name: string; by: Id }
  | { event: "notice_changed"; notice: string; by: Id }
  | { event: "owner_transferred"; user: Id; by: Id | null }
  | { event: "friend_added"; users: Id[] };

export type SystemEventName = SystemData["event"];
/** `data` of a reaction entry. */
export interface ReactionData { emoji: ReactionEmoji; on: boolean }
/** `data` of a recall entry. */
export interface RecallData { by: "sender" | "admin" | "operator" }
/** `data` of a forwarded copy. */
export interface ForwardedData { forwarded_from: { id: Id; sender: { id: Id; nickname: string } } }
export type MessageData = SystemData | ReactionData | RecallData | ForwardedData;

/** A stored message. History pages and the conversation list carry them folded (§11). */
export interface Message {
  id: Id;
  conversation: Id;
  /** 1, 2, 3 … per conversation, no gaps. */
  seq: number;
  /** Live `message` frames carry it without `remark`. */
  sender: User;
  kind: MessageKind;
  /** Empty when recalled. */
  body: string;
  /** Null when recalled. */
  attachment: Attachment | null;
  /** The sender's client message id. */
  client_id: string;
  created_at: DateTime;
  recalled: boolean;
  /**
   * The group owner or admin who recalled a member's message; null when not recalled,
   * recalled by its sender, or taken down by an operator. (Absent from servers before 1.13.)
   */
  recalled_by?: Id | null;
  edited: boolean;
  reply_to: Id | null;
  reply: Quote | null;
  /** Mentioned user ids (groups). */
  mentions: Id[];
  mention_all: boolean;
  reactions: Reaction[];
  /** Change entries: the message they change. */
  target: Id | null;
  data: MessageData | null;
  /** Seq of the newest change folded into this message (0: none). */
  change_seq: number;
}

/** A search result: a Message plus its highlighted snippet. */
export interface SearchHit extends Message {
  snippet: Array<{ text: string; hit: boolean }>;
}

/** A keyset page (history, search). */
export interface Page<T> {
  results: T[];
  has_more: boolean;
}
export type HistoryPage = Page<Message>;
export type SearchPage = Page<SearchHit>;

export type ConversationKind = "direct" | "group" | "robot";

export interface Conversation {
  id: Id;
  kind: ConversationKind;
  title: string;
  avatar: string | null;
  /** The other person (direct, robot), else null. */
  peer: User | null;
  /** The group's id (group conversations), else null. */
  group: Id | null;
  /** The newest message that is not a change entry, folded. */
  last_message: Message | null;
  last_seq: number;
  last_read_seq: number;
  /** Direct/robot: how far the other person has read. */
  peer_last_read_seq: number | null;
  /** Others' text/image/file messages after `last_read_seq`. */
  unread: number;
  /** An unread message mentions you (or @all): show "[@me]" until read. */
  mentioned: boolean;
  muted: boolean;
  /** False after leaving a group (history stays readable up to then). */
  is_active: boolean;
}

export type GroupRole = "owner" | "admin" | "member";

/** A Group without `my_role` (in events). */
export interface GroupBrief {
  id: Id;
  name: string;
  notice: string;
  avatar: string | null;
  owner: User;
  conversation: Id;
  member_count: number;
  is_public: boolean;
}

export interface Group extends GroupBrief {
  /** Your role, null when not a member. */
  my_role: GroupRole | null;
}

export interface Member {
  user: User;
  role: GroupRole;
  alias: string;
  joined_at: DateTime;
}

export type RequestStatus = "pending" | "accepted" | "rejected";

export interface GroupInvitation {
  id: Id;
  group: { id: Id; name: string; avatar: string | null };
  inviter: User;
  invitee: User;
  status: RequestStatus;
  created_at: DateTime;
}

export interface FriendRequest {
  id: Id;
  from: User;
  to: User;
  message: string;
  status: RequestStatus;
  created_at: DateTime;
}

export interface Block {
  user: User;
  created_at: DateTime;
}

export interface MessageReport {
  id: Id;
  message: Id;
  reason: string;
  status: string;
  created_at: DateTime;
}

/** `me/wechat/`. */
export interface WeChatLink {
  linked: boolean;
  /** Whether WeChat gave a unionid (the same person across the operator's apps). */
  unionid: boolean;
  created_at: DateTime | null;
}

/** `auth/token/`, `auth/wechat/`. */
export interface LoginResult {
  token: string;
  user: User;
}

export interface ReadResult {
  conversation: Id;
  last_read_seq: number;
  unread: number;
}

export interface MuteResult {
  conversation: Id;
  muted: boolean;
}

export interface GroupMeResult {
  alias: string;
  muted: boolean;
}

/** `push/config/`. */
export interface PushConfig {
  /** The VAPID public key (base64url) for PushManager.subscribe; null: no pushes. */
  public_key: string | null;
  preview: "text" | "sender" | "none";
}

/** A registered push subscription (`push/subscriptions/`). */
export interface PushSubscriptionInfo {
  id: Id;
  endpoint: string;
  language: string;
  user_agent: string;
  created_at: DateTime;
  last_success_at: DateTime | null;
}

export interface PushKeys {
  p256dh: string;
  auth: string;
}

/** What `subscribePush` takes: a browser PushSubscription (anything with toJSON()) or its JSON. */
export type PushSubscriptionSource =
  | { endpoint: string; keys: PushKeys }
  | { toJSON(): { endpoint?: string; keys?: Record<string, string> } };

// --- input shapes -------------------------------------------------------------------------

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  nickname?: string;
}

export interface MeUpdate {
  nickname?: string;
  bio?: string;
  gender?: Gender;
  region?: string;
}

export interface GroupCreate {
  name: string;
  /** User ids of friends to add. */
  members?: Id[];
  isPublic?: boolean;
}

export interface GroupUpdate {
  name?: string;
  notice?: string;
  is_public?: boolean;
  /** null removes the avatar (upload one with uploadGroupAvatar). */
  avatar?: null;
}

export interface GroupMeUpdate {
  alias?: string;
  muted?: boolean;
}

export interface HistoryOptions {
  /** Messages before this seq. */
  before?: number | null;
  /** Messages after this seq (oldest first). */
  after?: number | null;
  /** A page centred on this seq (jump to a message). */
  around?: number | null;
  /** 1–200 (default 50; `client.history`: 30). */
  limit?: number;
}

export interface SearchOptions {
  conversation?: Id | null;
  sender?: Id | null;
  /** The id of the last result of the previous page. */
  before?: Id | null;
  /** 1–50 (default 20). */
  limit?: number;
}

export interface PostMessageInput {
  /** The client message id (reuse it when retrying). */
  id: string;
  kind?: ContentKind;
  body?: string;
  attachment?: Id | null;
  replyTo?: Id | null;
  mentions?: Id[] | null;
  mentionAll?: boolean;
}

export interface ForwardInput {
  /** Client id of the forward (a retry with the same id returns the same copies). */
  id: string;
  conversation: Id;
  messages: Id[];
}

export interface SendInput {
  conversation: Id;
  kind?: ContentKind;
  body?: string;
  attachment?: Id | null;
  /** Shown while unacked (e.g. a local image URL); never persisted. */
  preview?: string | null;
  replyTo?: Id | null;
  mentions?: Id[] | null;
  mentionAll?: boolean;
}

export interface SendUploadInput<F> {
  conversation: Id;
  file: F;
  body?: string;
  preview?: string | null;
  filename?: string;
  replyTo?: Id | null;
}

/** An unacked message in the outbox. */
export interface OutboxItem {
  /** The client message id. */
  id: string;
  conversation: Id;
  kind: ContentKind;
  body: string;
  attachment: Id | null;
  replyTo: Id | null;
  mentions: Id[] | null;
  mentionAll: boolean;
  preview?: string | null;
  state: "sending" | "failed";
  /** The error code of a failed item. */
  error?: string;
  createdAt: number;
  sentAt: number;
}

// --- errors -----------------------------------------------------------------------------

/** REST error codes (docs/protocol.md §6.1) and the socket's (§2.4); `network` when unreachable. */
export type ErrorCode =
  | "network"
  | "invalid"
  | "invalid_frame"
  | "too_large"
  | "unknown_type"
  | "unauthenticated"
  | "not_member"
  | "not_friends"
  | "not_found"
  | "content_blocked"
  | "invalid_attachment"
  | "invalid_credentials"
  | "inactive"
  | "invalid_code"
  | "permission_denied"
  | "method_not_allowed"
  | "conflict"
  | "unsupported_media_type"
  | "rate_limited"
  | "busy"
  | "server_error"
  | "upstream_unavailable"
  | "not_configured"
  | (string & {});

/** The one error every REST helper (and every change call) rejects with. */
export declare class HappyChatError extends Error {
  constructor(init?: {
    status?: number;
    code?: string;
    detail?: string;
    retryable?: boolean;
    errors?: Record<string, string[]> | null;
    body?: unknown;
  });
  name: "HappyChatError";
  /** HTTP status; 0 when the server could not be reached (or over the socket). */
  status: number;
  code: ErrorCode;
  detail: string;
  /** Retrying the same request later can succeed. */
  retryable: boolean;
  /** Field errors: {field: [messages]}. */
  errors: Record<string, string[]> | null;
  /** The answer as the server sent it. */
  body: unknown;
}

/** The HappyChatError for a non-2xx answer, whatever its shape. */
export declare function errorFromResponse(status: number, body: unknown): HappyChatError;

// --- platform parts (adapters) ------------------------------------------------------------

/** What the SDK needs of a WebSocket (the browser's, Node's, `ws`'s, or an adapter's wrapper). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number): void;
  onopen: ((event: any) => void) | null;
  /** `event.data` is the frame's text. */
  onmessage: ((event: any) => void) | null;
  /** `event.code` is the close code. */
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /** True when the token went in a header (no `auth` frame needed). */
  headerAuth?: boolean;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem?(key: string): void;
}

/** Bytes with a size and type: a browser Blob or File, or Node's Blob. */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A browser File (or any Blob with a name). */
export interface FileLike extends BlobLike {
  readonly name?: string;
}

/** A FormData (browser, Node 18+): `updateMe` accepts one carrying `avatar`. */
export interface FormDataLike {
  append(name: string, value: unknown, filename?: string): void;
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface RequestOptions {
  token?: string | null;
}

export interface UploadOptions {
  token?: string | null;
  /** The multipart field of the file (default `file`). */
  field?: string;
  filename?: string;
  /** More multipart fields, e.g. {kind: "file"}. */
  fields?: Record<string, string>;
}

/**
 * Platform parts a client runs on. `Upload` is what the platform uploads (a Blob, a WeChat
 * temp file path, bytes); `Download` what a download gives back (an object URL, a temp file
 * path, bytes). Write your own for another platform with the same members.
 */
export interface Adapter<Upload = unknown, Download = unknown> {
  /** The server's address ("" in a same-site browser page). */
  baseUrl: string;
  /** The /ws/chat/ URL. */
  socketUrl: string | null;
  createSocket(url: string, options: { token: string | null }): SocketLike;
  /** A JSON call; resolves with the parsed answer (null for 204), rejects with HappyChatError. */
  request(method: HttpMethod, path: string, body?: unknown, options?: RequestOptions): Promise<any>;
  /** A multipart POST of one file; resolves with the parsed answer. */
  upload(path: string, file: Upload, options?: UploadOptions): Promise<any>;
  /** A GET with credentials of a private file. */
  download(url: string, options?: RequestOptions): Promise<Download>;
  storage: StorageLike;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  now(): number;
  random(): number;
  uuid(): string;
  /** Wire the platform's "network back" / "app in front" signals to the client; returns an unsubscribe. */
  watch(client: HappyChatClient<any>): () => void;
}

/** Browser uploads take a File or Blob; downloads give an object URL (revoke it when done). */
export type BrowserAdapter = Adapter<FileLike, string>;
/** WeChat uploads take a temp file path (wx.chooseMedia…); downloads give a temp file path. */
export type WeChatAdapter = Adapter<string, string>;
/** Node uploads take a Blob or bytes (a Buffer is a Uint8Array); downloads give bytes. */
export type NodeAdapter = Adapter<FileLike | Uint8Array | ArrayBuffer, Uint8Array>;

/** What an adapter uploads. */
export type UploadOf<A> = A extends Adapter<infer U, any> ? U : unknown;
/** What an adapter's download resolves with. */
export type DownloadOf<A> = A extends Adapter<any, infer D> ? D : unknown;

export interface BrowserAdapterOptions {
  /** The server's address for a page on another origin (a packaged app): then use a token. */
  baseUrl?: string;
  /** Where the outbox lives (default: localStorage). */
  storage?: StorageLike | null;
}

export declare function browserAdapter(options?: BrowserAdapterOptions): BrowserAdapter;
/** Wire a client to the browser's online/offline/visibility signals; returns an unsubscribe. */
export declare function watchBrowser(client: HappyChatClient<any>): () => void;
/** The /ws/chat/ URL of the page's own host. */
export declare function socketUrl(location?: { protocol: string; host: string }): string;

// The parts of WeChat's `wx` the SDK uses (miniprogram-api-typings' `wx` fits).

export interface WxSocketTask {
  send(option: { data: string; success?(result: any): void; fail?(error: any): void }): void;
  close(option: { code?: number; reason?: string }): void;
  onOpen(callback: (result: any) => void): void;
  onMessage(callback: (result: { data: string | ArrayBuffer }) => void): void;
  onClose(callback: (result: { code: number; reason: string }) => void): void;
  onError(callback: (result: { errMsg: string }) => void): void;
}

export interface WxLike {
  connectSocket(option: { url: string; header?: Record<string, string>; fail?(error: { errMsg: string }): void }): WxSocketTask;
  request(option: {
    url: string;
    method?: string;
    header?: Record<string, string>;
    data?: any;
    dataType?: string;
    responseType?: string;
    success?(result: { statusCode: number; data: any }): void;
    fail?(error: { errMsg: string }): void;
  }): unknown;
  uploadFile(option: {
    url: string;
    filePath: string;
    name: string;
    header?: Record<string, string>;
    formData?: Record<string, any>;
    success?(result: { statusCode: number; data: string }): void;
    fail?(error: { errMsg: string }): void;
  }): unknown;
  downloadFile(option: {
    url: string;
    header?: Record<string, string>;
    success?(result: { statusCode: number; tempFilePath: string }): void;
    fail?(error: { errMsg: string }): void;
  }): unknown;
  getStorageSync(key: string): any;
  setStorageSync(key: string, data: any): void;
  removeStorageSync(key: string): void;
  onNetworkStatusChange(listener: (result: { isConnected: boolean; networkType: string }) => void): void;
  offNetworkStatusChange?(listener?: (result: any) => void): void;
  onAppShow(listener: (result: any) => void): void;
  offAppShow?(listener?: (result: any) => void): void;
  /** Used to read the error answer of a failed download. */
  getFileSystemManager?(): { readFileSync(filePath: string, encoding?: any): string | ArrayBuffer };
}

export interface WeChatAdapterOptions {
  /** The `wx` object (default: the global one). */
  wx?: WxLike;
  /** The server's https:// address (in the mini-program's legal domain lists). */
  baseUrl: string;
  /** The socket URL when it is not `<baseUrl as wss>/ws/chat/`. */
  socketUrl?: string | null;
}

export declare function wechatAdapter(options: WeChatAdapterOptions): WeChatAdapter;

/** A WebSocket class: the `ws` package's (token in a header) or Node's global one (`auth` frame). */
export type WebSocketClass = new (url: string, options?: { headers?: Record<string, string> }) => any;

/** A fetch function (Node 18+'s global one by default). */
export type FetchLike = (url: string, init?: any) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

export interface NodeAdapterOptions {
  /** The server's address, e.g. http://127.0.0.1:8000. */
  baseUrl: string;
  /** Default: the global WebSocket (Node 22+). */
  WebSocket?: WebSocketClass;
  /** Where the outbox lives (default: memory). */
  storage?: StorageLike | null;
  fetch?: FetchLike;
}

export declare function nodeAdapter(options: NodeAdapterOptions): NodeAdapter;

/** A storage in memory only (outbox and cursors die with the process). */
export declare function memoryStorage(): Required<StorageLike>;

// --- events -------------------------------------------------------------------------------

export type ClientStatus = "connecting" | "open" | "reconnecting" | "closed";

/** The `event` frames (docs/protocol.md §5) by name, with their `data`. */
export interface ServerEvents {
  friend_request: { request: FriendRequest };
  friend_added: { user: User; conversation: Id };
  friend_updated: { user: User };
  friend_removed: { user: Id };
  user_blocked: { user: User };
  user_unblocked: { user: Id };
  conversation_created: {
    conversation: { id: Id; kind: ConversationKind; peer: User | null; group: Id | null };
    group?: GroupBrief;
  };
  group_joined: { group: GroupBrief; user: User; by: Id | null };
  group_left: { group: GroupBrief; user: Id; reason: "left" | "removed"; by: Id };
  group_updated: {
    group: GroupBrief;
    changed: Array<"name" | "notice" | "avatar" | "is_public" | "owner" | "roles" | "alias" | "muted">;
    member?: { user: Id; role?: GroupRole; alias?: string };
    muted?: boolean;
    by: Id;
  };
  group_invitation: { invitation: GroupInvitation };
  group_dissolved: { group: GroupBrief; by: Id };
  /** Live delivery was interrupted: the client has already sent `sync`. */
  resync: Record<string, never>;
}

/**
 * The `event` event's detail, narrowed by `event`. New names are added without a version
 * bump: a `switch` over `event` must have a default that ignores the rest.
 */
export type ServerEvent = { [K in keyof ServerEvents]: { event: K; data: ServerEvents[K] } }[keyof ServerEvents];

/** Every event a HappyChatClient emits, with its detail. */
export interface ClientEvents {
  status: { status: ClientStatus; attempt: number };
  hello: { user: User; heartbeat: number; limits: Limits };
  /** Each stored message once, in seq order per conversation (change entries come as `change`). */
  message: { message: Message; live: boolean };
  /**
   * A recall/edit/reaction entry and the message it changed, folded (`target` null when the
   * client does not hold it); `entry` null when an ack or REST answer brought a newer state.
   */
  change: { entry: Message | null; target: Message | null; live: boolean };
  /** The unacked messages changed. */
  outbox: { items: OutboxItem[] };
  read: { conversation: Id; user: Id; seq: number };
  typing: { conversation: Id; user: Id };
  presence: { user: Id; online: boolean };
  event: ServerEvent;
  synced: { cursors: Record<string, number>; has_more: Id[] };
  /** An `error` frame that belongs to no outbox item. */
  error: { code: ErrorCode; detail: string; ref?: string };
  /** An outbox item the server refused for good. */
  failed: { item: OutboxItem; code: ErrorCode; detail: string };
  /** Closed with 4001/4003: log in again. */
  unauthenticated: { code: 4001 | 4003 };
}

/** A small event emitter (works where EventTarget does not exist). */
export declare class Emitter<Events extends object = Record<string, unknown>> {
  /** Subscribe; returns a function that unsubscribes. */
  on<K extends keyof Events>(type: K, fn: (detail: Events[K]) => void): () => void;
  off<K extends keyof Events>(type: K, fn: (detail: Events[K]) => void): void;
  emit<K extends keyof Events>(type: K, detail: Events[K]): void;
}

// --- the client ---------------------------------------------------------------------------

export interface ClientOptions<A extends Adapter<any, any>> {
  adapter: A;
  /** The WebSocket URL (default: the adapter's socketUrl). */
  url?: string | null;
  /** An API token; without one a browser uses its session cookie. */
  token?: string | null;
  /** Namespace in storage for the outbox (and cursors). Default "happychat". */
  storageKey?: string;
  /** Keep the per-conversation cursors in storage (apps that keep messages across restarts). */
  persistCursors?: boolean;
}

/** The docs/protocol.md version this SDK implements. */
export declare const PROTOCOL_VERSION: string;
/** Message kinds that change an earlier message instead of adding one. */
export declare const CHANGE_KINDS: ReadonlySet<string>;

/** What the server allows a client's UI to offer (docs/protocol.md §2.3 `hello.limits`). */
export interface Limits {
  /** Seconds after sending during which the sender may recall. */
  recall_seconds: number;
  /** Seconds after sending during which the sender may edit a text. */
  edit_seconds: number;
  text_max_chars: number;
  image_max_bytes: number;
  file_max_bytes: number;
  /** Most messages one forward may carry. */
  forward_max: number;
  /** The reaction emoji, in order. */
  reactions: string[];
}
/** The limits assumed until the server's `hello` says otherwise. */
export declare const DEFAULT_LIMITS: Readonly<Limits>;

/**
 * Fold change entry `entry` into `target`: the new target, or null when the entry is not
 * about it or is already included (entry.seq <= target.change_seq).
 */
export declare function foldChange(target: Message | null | undefined, entry: Message | null | undefined): Message | null;

/** Delay in ms before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s, with jitter. */
export declare function backoffDelay(attempt: number, random?: () => number): number;

/** One socket per device, an outbox, sync, heartbeat and reconnects (docs/protocol.md §2–§4). */
export declare class HappyChatClient<A extends Adapter<any, any> = Adapter> extends Emitter<ClientEvents> {
  constructor(options: ClientOptions<A>);
  readonly adapter: A;
  /** Typed REST helpers, authenticated like this client. */
  readonly api: HappyChatApi<A>;
  url: string | null;
  token: string | null;
  readonly status: ClientStatus;
  /** The user of the last `hello`, null before. */
  readonly user: User | null;
  /** Seconds between pings (from `hello`). */
  readonly heartbeat: number;
  /** The server's limits (from `hello`; DEFAULT_LIMITS before). */
  readonly limits: Limits;
  /**
   * Milliseconds to add to this device's clock to get the server's (from `hello`'s
   * `server_time`; 0 before): time windows such as `limits.recall_seconds` are the server's.
   */
  readonly clockOffset: number;
  /** The platform said the network is gone. */
  readonly offline: boolean;
  /** Unacked sends, oldest first. */
  readonly outbox: ReadonlyArray<Readonly<OutboxItem>>;

  /** Open the socket, and keep it open (reconnecting) until close(). */
  connect(): void;
  /** Close for good: no reconnect. */
  close(): void;
  /** Use this token from now on. */
  setToken(token: string | null): void;
  /** The network came back or the app is in front: probe or reconnect now. */
  wake(): void;
  /** The network is gone: drop the socket; wake() reconnects. */
  networkLost(): void;

  /** Queue a message; it is persisted and retried with the same id until acked. */
  send(input: SendInput): OutboxItem;
  /** Upload an image, then send it. */
  sendImage(input: SendUploadInput<UploadOf<A>>): Promise<OutboxItem>;
  /** Upload a document, then send it as a `file` message. */
  sendFile(input: SendUploadInput<UploadOf<A>>): Promise<OutboxItem>;
  /** Try a failed item again (same client id). */
  retry(id: string): void;
  /** Give up on an unacked item. */
  discard(id: string): void;
  /** Copies of a conversation's unacked items. */
  pending(conversation: Id): OutboxItem[];

  /** Recall a message → its folded state (over the socket, or REST when closed). */
  recall(messageId: Id): Promise<Message>;
  /** Edit your text message → its folded state. */
  edit(messageId: Id, body: string): Promise<Message>;
  /** Set (`on`) or toggle (omitted) your reaction → the folded message. */
  react(messageId: Id, emoji: ReactionEmoji, on?: boolean): Promise<Message>;
  /** The folded state of a message this client holds, or null. */
  message(id: Id): Message | null;
  /** Keep messages loaded over REST so later changes fold into them; returns them folded. */
  remember(messages: Message[]): Message[];

  /** Start a conversation's cursor at `seq` (e.g. its last_seq from the list). */
  setCursor(conversation: Id, seq: number): void;
  /** The newest contiguous seq held for a conversation. */
  cursor(conversation: Id): number | undefined;
  /** Ask for everything after the cursors (one sync in flight at a time). */
  sync(): void;
  /** Tell the others how far you have read (socket when open, else REST). */
  markRead(conversation: Id, seq: number): Promise<void>;
  /** Say you are typing (at most once every 3 s per conversation). */
  typing(conversation: Id): void;

  /** Any JSON REST call. */
  request<T = any>(method: HttpMethod, path: string, body?: unknown): Promise<T>;
  /** A history page (default 30), remembered for folding, as this client holds its messages. */
  history(conversation: Id, options?: HistoryOptions): Promise<HistoryPage>;
}

// --- REST helpers ---------------------------------------------------------------------------

export interface ApiOptions<A> {
  adapter: A;
  /** The token, or a function giving the current one. */
  token?: string | null | (() => string | null);
  /** Told when log-in or log-out changes the token. */
  onToken?: ((token: string | null) => void) | null;
}

/** Typed helpers for the REST API (docs/protocol.md §6); each rejects with HappyChatError. */
export declare class HappyChatApi<A extends Adapter<any, any> = Adapter> {
  constructor(options: ApiOptions<A>);
  readonly adapter: A;
  /** The token calls use. */
  readonly token: string | null;
  /** Any JSON call, e.g. request("GET", "/api/v1/…"). */
  request<T = any>(method: HttpMethod, path: string, body?: unknown): Promise<T>;

  // identity (§1)
  /** Log in with username (or e-mail) and password; later calls use the token. */
  login(username: string, password: string): Promise<LoginResult>;
  /** Log in from a mini-program with the code of wx.login(). */
  loginWithWeChat(code: string): Promise<LoginResult>;
  /** Revoke this device's token (its sockets close) and forget it. */
  logout(): Promise<void>;
  register(input: RegisterInput): Promise<Me>;
  /** Always resolves (202): nobody learns which addresses exist. */
  resendActivation(email: string): Promise<void>;
  wechatLink(): Promise<WeChatLink>;
  linkWeChat(code: string): Promise<WeChatLink>;
  unlinkWeChat(): Promise<void>;

  // me and people
  me(): Promise<Me>;
  /** Change profile fields; a FormData may carry `avatar` (browser, Node). */
  updateMe(fields: MeUpdate | FormDataLike): Promise<Me>;
  /** Replace your avatar (POST me/avatar/: works with wx.uploadFile too). */
  uploadAvatar(file: UploadOf<A>, options?: { filename?: string }): Promise<Me>;
  /** Everything stored about you as a zip (object URL / temp file path / bytes). */
  exportData(): Promise<DownloadOf<A>>;
  /** At most 20 people by username or nickname (contains) or e-mail (exact). */
  searchUsers(search: string): Promise<User[]>;
  /** A person's card. */
  user(id: Id): Promise<UserCard>;

  // friends
  friends(): Promise<User[]>;
  /** Set (empty clears) your remark for a friend. */
  setRemark(userId: Id, remark: string): Promise<User>;
  removeFriend(userId: Id): Promise<void>;
  /** Both directions, newest first. */
  friendRequests(): Promise<FriendRequest[]>;
  sendFriendRequest(to: Id, message?: string): Promise<FriendRequest>;
  acceptFriendRequest(id: Id): Promise<FriendRequest>;
  rejectFriendRequest(id: Id): Promise<FriendRequest>;
  blocks(): Promise<Block[]>;
  block(userId: Id): Promise<Block>;
  unblock(userId: Id): Promise<void>;

  // groups
  /** Your groups, then public groups whose name contains `search`. */
  groups(search?: string): Promise<Group[]>;
  createGroup(input: GroupCreate): Promise<Group>;
  group(id: Id): Promise<Group>;
  updateGroup(id: Id, fields: GroupUpdate | FormDataLike): Promise<Group>;
  /** Replace the group's avatar (owner or admin). */
  uploadGroupAvatar(id: Id, file: UploadOf<A>, options?: { filename?: string }): Promise<Group>;
  dissolveGroup(id: Id): Promise<void>;
  joinGroup(id: Id): Promise<Group>;
  leaveGroup(id: Id): Promise<void>;
  groupMembers(id: Id): Promise<Member[]>;
  /** Public group: the new Member; private group: the GroupInvitation sent. */
  addGroupMember(id: Id, userId: Id): Promise<Member | GroupInvitation>;
  removeGroupMember(id: Id, userId: Id): Promise<void>;
  setGroupRole(id: Id, userId: Id, role: "admin" | "member"): Promise<Member>;
  transferGroup(id: Id, userId: Id): Promise<Group>;
  updateGroupMe(id: Id, fields: GroupMeUpdate): Promise<GroupMeResult>;
  addRobot(id: Id): Promise<Member>;
  removeRobot(id: Id): Promise<void>;
  /** Your pending invitations. */
  invitations(): Promise<GroupInvitation[]>;
  acceptInvitation(id: Id): Promise<Group>;
  rejectInvitation(id: Id): Promise<GroupInvitation>;

  // conversations and messages
  /** Your active conversations, newest activity first. */
  conversations(): Promise<Conversation[]>;
  conversation(id: Id): Promise<Conversation>;
  /** A history page, oldest first, messages folded, change entries left out. */
  history(id: Id, options?: HistoryOptions): Promise<HistoryPage>;
  /** Send over HTTP with the socket's guarantees (reuse `id` when retrying). */
  postMessage(conversation: Id, input: PostMessageInput): Promise<Message>;
  /** One message you may read, folded. */
  getMessage(id: Id): Promise<Message>;
  recall(id: Id): Promise<Message>;
  edit(id: Id, body: string): Promise<Message>;
  /** Add (`on` true), remove (false) or toggle (omitted) your reaction. */
  react(id: Id, emoji: ReactionEmoji, on?: boolean): Promise<Message>;
  /** Copy messages into a conversation you may post in → the copies. */
  forward(input: ForwardInput): Promise<Message[]>;
  /** Messages you may read with every word of `q`, newest first. */
  searchMessages(q: string, options?: SearchOptions): Promise<SearchPage>;
  markRead(id: Id, seq: number): Promise<ReadResult>;
  mute(id: Id, muted: boolean): Promise<MuteResult>;
  report(messageId: Id, reason: string): Promise<MessageReport>;

  // uploads
  uploadImage(file: UploadOf<A>, options?: { filename?: string }): Promise<ImageAttachment>;
  uploadFile(file: UploadOf<A>, options?: { filename?: string }): Promise<FileAttachment>;
  /** An attachment URL fetched with credentials (object URL / temp file path / bytes). */
  downloadImage(url: string): Promise<DownloadOf<A>>;
  downloadFile(url: string): Promise<DownloadOf<A>>;

  // Web Push (browsers and wrapped web apps)
  pushConfig(): Promise<PushConfig>;
  pushSubscriptions(): Promise<PushSubscriptionInfo[]>;
  subscribePush(subscription: PushSubscriptionSource, options?: { language?: string }): Promise<PushSubscriptionInfo>;
  unsubscribePush(endpoint: string): Promise<void>;
  deletePushSubscription(id: Id): Promise<void>;
}
