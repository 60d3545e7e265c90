"""Rasa input/output channels: website REST (validating), later socket.io, WeChat, agent console."""
