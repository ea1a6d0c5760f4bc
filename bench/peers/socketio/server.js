"use strict";
// A socket.io chat server, the way the socket.io chat tutorial and happyChat built theirs:
// each socket joins the room named in its handshake (?room=…); a "chat message" is
// acknowledged to its sender and broadcast to the other members of the room. Nothing is
// stored. Usage: node server.js PORT
const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3000);
const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ["websocket"], perMessageDeflate: false });

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room || "lobby");
  socket.join(room);
  socket.on("chat message", (msg, ack) => {
    if (typeof ack === "function") ack({ id: msg.id });
    socket.to(room).emit("chat message", msg);
  });
});

httpServer.listen(port, "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
