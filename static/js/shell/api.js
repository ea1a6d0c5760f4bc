// Every REST call the shell makes, in one place, through the SDK's request().
// When the SDK grows typed helpers (client.api.…), these delegate to them.

const q = encodeURIComponent;

/** The REST actions of the web UI, each returning the contract's shapes. */
export function createApi(client) {
  const r = (method, path, body) => client.request(method, `/api/v1/${path}`, body);
  return {
    // conversations and messages
    conversations: () => r("GET", "conversations/"),
    conversation: (id) => r("GET", `conversations/${id}/`),
    mute: (id, muted) => r("POST", `conversations/${id}/mute/`, { muted }),
    upload: (form) => r("POST", "uploads/", form),
    report: (messageId, reason) => r("POST", `messages/${messageId}/report/`, { reason }),
    // people and friends
    me: () => r("GET", "me/"),
    updateMe: (form) => r("PATCH", "me/", form),
    searchUsers: (text) => r("GET", `users/?search=${q(text)}`),
    user: (id) => r("GET", `users/${id}/`),
    friends: () => r("GET", "friends/"),
    setRemark: (id, remark) => r("PATCH", `friends/${id}/`, { remark }),
    deleteFriend: (id) => r("DELETE", `friends/${id}/`),
    friendRequests: () => r("GET", "friend-requests/"),
    sendFriendRequest: (to, message) => r("POST", "friend-requests/", { to, message }),
    acceptFriendRequest: (id) => r("POST", `friend-requests/${id}/accept/`),
    rejectFriendRequest: (id) => r("POST", `friend-requests/${id}/reject/`),
    blocks: () => r("GET", "blocks/"),
    block: (user) => r("POST", "blocks/", { user }),
    unblock: (id) => r("DELETE", `blocks/${id}/`),
    // groups
    groups: (search = "") => r("GET", `groups/${search ? `?search=${q(search)}` : ""}`),
    group: (id) => r("GET", `groups/${id}/`),
    createGroup: (body) => r("POST", "groups/", body),
    updateGroup: (id, body) => r("PATCH", `groups/${id}/`, body),
    dissolveGroup: (id) => r("DELETE", `groups/${id}/`),
    joinGroup: (id) => r("POST", `groups/${id}/join/`),
    leaveGroup: (id) => r("POST", `groups/${id}/leave/`),
    members: (id) => r("GET", `groups/${id}/members/`),
    addMember: (id, user) => r("POST", `groups/${id}/members/`, { user }),
    removeMember: (id, user) => r("DELETE", `groups/${id}/members/${user}/`),
    setRole: (id, user, role) => r("PATCH", `groups/${id}/members/${user}/`, { role }),
    transfer: (id, user) => r("POST", `groups/${id}/transfer/`, { user }),
    groupMe: (id, body) => r("PATCH", `groups/${id}/me/`, body),
    addRobot: (id) => r("POST", `groups/${id}/robot/`),
    removeRobot: (id) => r("DELETE", `groups/${id}/robot/`),
    invitations: () => r("GET", "group-invitations/"),
    acceptInvitation: (id) => r("POST", `group-invitations/${id}/accept/`),
    rejectInvitation: (id) => r("POST", `group-invitations/${id}/reject/`),
  };
}

/** The words to show for a failed call: the server's own detail where it gave one. */
export function errorText(err, fallback) {
  const body = err && err.body;
  if (body && body.errors) {
    const first = Object.values(body.errors).flat()[0];
    if (first) return String(first);
  }
  if (body && typeof body.detail === "string" && body.detail) return body.detail;
  return fallback;
}
