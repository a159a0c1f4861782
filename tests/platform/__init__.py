"""WeCom's side of the wire for tests: its own callback crypto, message factories and an actor.

Written from the protocol notes (wecom-protocol.md §1-§4), not from wechatpy nor the bot's code, so the
bot is tested against the protocol rather than against itself.
"""
