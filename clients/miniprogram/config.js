// The HappyChat server this mini-program talks to: an https:// address whose host is in
// the mini-program's legal domain lists (request, socket, uploadFile, downloadFile).
// See docs/miniprogram.md.
export const SERVER_URL = "https://chat.example.com";
