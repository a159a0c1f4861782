"""The dashboard for leaders and admins: one-time sign-in links sent in WeCom, then charts of their own units.

create_app mounts ``bp`` at ``/dashboard``. The reports come from a ``ReportSource`` that
handlers/dashboard.py installs at start (bot/ knows no capability). Modules: signin (links and
sessions in Redis), views (the page, the PNG and Excel downloads).
"""
from flask import Blueprint

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

from bot.dashboard import views  # noqa: E402,F401  (routes attach themselves to bp)

__all__ = ["bp"]
