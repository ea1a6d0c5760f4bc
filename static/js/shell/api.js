// The shell's REST calls all go through the SDK's typed helpers (client.api, see
// happychat-client.js and docs/protocol.md §6); this module only words their errors.

/** The words to show for a failed call: the server's own detail where it gave one. */
export function errorText(err, fallback) {
  if (err && err.errors) {
    const first = Object.values(err.errors).flat()[0];
    if (first) return String(first);
  }
  if (err && err.status && typeof err.detail === "string" && err.detail && err.detail !== err.code) return err.detail;
  return fallback;
}
