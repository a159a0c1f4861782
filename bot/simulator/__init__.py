"""The simulator page: try the bot in a browser as any member of the demo unit, no WeCom tenant needed.

create_app mounts ``bp`` at ``/simulator`` in demo mode only. Modules: views (the page and its JSON
endpoints), conversation (callbacks through the terminal client), people (the member picker),
render (replies and stand-in records as chat bubbles), audio (AMR → WAV), timeline (the demo clock).
"""
from flask import Blueprint

bp = Blueprint("simulator", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

from bot.simulator import views  # noqa: E402,F401  (routes attach themselves to bp)

__all__ = ["bp"]
