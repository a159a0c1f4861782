"""The smart bot's long connection (WebSocket, dialled out by the bot): the fourth inbound channel.

frames (the JSON envelope), connection (read loop, writer, acks, pings), client (subscribe, reconnect,
stop when kicked), identity (sender → roster member), inbound (frames → Inbound → pipeline → replies), relay (RQ jobs → this process →
aibot_send_msg and uploads), upload (the chunked media upload), outbound (the send job), process
(`python -m bot longconn`).
"""
