"""The ceiling: the least work a first 打卡 callback can do, as a Flask endpoint. Not the bot.

It checks the signature, decrypts, parses, and answers with an encrypted reply, using only hashlib,
cryptography and the C XML parser, then stores the check-in in one of three ways (``CEILING_STORAGE``):

- ``none``: stores nothing (the protocol alone);
- ``redis``: one Redis round trip, a Lua call that claims the message id, reads the member's
  conversation, sets the day's bit and appends a stream entry for a later SQL write;
- ``sqlite``: one SQLite transaction (WAL, synchronous=NORMAL) that claims the message id, reads the
  name, inserts the check-in, reads the month's days and stores the reply.

There is no routing, no roster check beyond that, and no handler. bench/callback_ceiling.py serves it
with the web role's gunicorn settings next to bench/bare_app.py: a ratio this cannot reach, the bot cannot.
"""
from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import time
from xml.etree.ElementTree import fromstring

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask, Response, request

_CHECK_IN = """
if not redis.call('SET', KEYS[1], 'pending', 'NX', 'EX', 7200) then return {0, false} end
local conversation = redis.call('GET', KEYS[2])
local new = redis.call('SETBIT', KEYS[3], tonumber(ARGV[1]), 1)
redis.call('XADD', KEYS[4], '*', 'userid', ARGV[2], 'msg_id', ARGV[3])
return {1 - new, conversation}
"""


def create_app() -> Flask:
    app = Flask(__name__)
    key = base64.b64decode(os.environ["WECOM_AES_KEY"] + "=")
    token = os.environ["WECOM_TOKEN"]
    store = {"none": _no_storage, "redis": _redis_storage, "sqlite": _sqlite_storage}[os.environ["CEILING_STORAGE"]]()

    def sign(*parts: str) -> str:
        return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()

    @app.post("/wecom/robot")
    def robot():
        args = request.args
        timestamp, nonce = args["timestamp"], args["nonce"]
        encrypt = fromstring(request.get_data(cache=False)).findtext("Encrypt")
        if sign(token, timestamp, nonce, encrypt) != args["msg_signature"]:
            return Response(b"", 403)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
        message = fromstring(plain[20:20 + int.from_bytes(plain[16:20], "big")])
        reply = store(message.findtext("From/UserId"), message.findtext("MsgId"))
        body = f"<xml><MsgType>text</MsgType><Text><Content><![CDATA[{reply}]]></Content></Text></xml>".encode()
        body = os.urandom(16) + len(body).to_bytes(4, "big") + body
        body += bytes([32 - len(body) % 32]) * (32 - len(body) % 32)
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        encrypt = base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()
        timestamp, nonce = str(int(time.time())), os.urandom(8).hex()
        envelope = (f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA["
                    f"{sign(token, timestamp, nonce, encrypt)}]]></MsgSignature><TimeStamp>{timestamp}</TimeStamp>"
                    f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>")
        return Response(envelope.encode(), 200, content_type="application/xml; charset=utf-8")

    @app.get("/readyz")
    def readyz():
        return {"ok": True}

    return app


def _no_storage():
    return lambda userid, msg_id: "打卡成功！已连续打卡 1 天，本月第 1 次。"


def _redis_storage():
    from redis import Redis

    per_process: dict[int, tuple] = {}

    def store(userid: str, msg_id: str) -> str:
        if os.getpid() not in per_process:      # after the fork: one connection per worker, the script loaded
            client = Redis.from_url(os.environ["REDIS_URL"])
            per_process[os.getpid()] = (client.script_load(_CHECK_IN), client.connection_pool.get_connection())
        sha, connection = per_process[os.getpid()]
        # the lowest layer of redis-py: no pool, no retry wrapper
        connection.send_command("EVALSHA", sha, 4, f"dedupe:{msg_id}", f"flow:{userid}", "checkins:day",
                                "checkins:to-sql", int(userid.removeprefix("bench")), userid, msg_id)
        first, _conversation = connection.read_response()
        return "打卡成功！已连续打卡 1 天，本月第 1 次。" if first else "您今天已经打过卡啦。"

    return store


def _sqlite_storage():
    per_process: dict[int, sqlite3.Connection] = {}

    def store(userid: str, msg_id: str) -> str:
        if os.getpid() not in per_process:
            db = sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None,
                                 timeout=15)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS ceiling_replies (msg_id TEXT PRIMARY KEY, reply TEXT)")
            per_process[os.getpid()] = db
        db = per_process[os.getpid()]
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR IGNORE INTO ceiling_replies VALUES (?, '')", (msg_id,))
        (name,) = db.execute("SELECT name FROM members WHERE userid = ?", (userid,)).fetchone()
        db.execute("INSERT OR IGNORE INTO checkins (userid, day, note, channel, msg_id, created_at) "
                   "VALUES (?, '2026-11-25', '', 'robot', ?, '2026-11-25 10:00:00+08:00')", (userid, msg_id))
        days = db.execute("SELECT day FROM checkins WHERE userid = ? AND day >= '2026-11-01'", (userid,)).fetchall()
        reply = f"打卡成功！{name}，已连续打卡 {len(days)} 天，本月第 {len(days)} 次。"
        db.execute("UPDATE ceiling_replies SET reply = ? WHERE msg_id = ?", (reply, msg_id))
        db.execute("COMMIT")
        return reply

    return store
