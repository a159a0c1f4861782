"""Local WeCom API stand-in: a strict fake of qyapi.weixin.qq.com/cgi-bin for demos and tests.

create_app() mounts ``bp`` at ``/standin``. All state lives in Redis so several gunicorn workers
agree. Modules: api (WeCom paths), control (records and scripting), service (behaviour),
checks/media (pure validation), store/scenario/records/ratelimit (Redis state), codes (errcodes).
"""
from flask import Blueprint

from bot.standin import api, control

bp = Blueprint("standin", __name__)
# control first only for readability; routing picks the most specific rule either way
bp.register_blueprint(control.bp)
bp.register_blueprint(api.bp)

__all__ = ["bp"]
