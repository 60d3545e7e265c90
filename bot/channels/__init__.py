"""Rasa input channels: REST (with request checks), the website chat (socket.io), WeChat, the agent
console, and the demo shop pages."""
