"""Every Redis key format in one place, all under the ``szzs:`` prefix."""

PREFIX = "szzs"

DEDUPE = PREFIX + ":dedupe:{channel}:{msg_id}"             # callback seen → stored passive reply
FLOW = PREFIX + ":flow:{channel}:{chat_id}:{user_id}"       # a multi-turn conversation in progress (bot/flows.py)
ACCESS_TOKEN = PREFIX + ":token:{corp_id}:{agent_id}"       # app access_token shared by all processes
TOKEN_LOCK = PREFIX + ":token-lock:{corp_id}:{agent_id}"    # one process fetches a token at a time
RATE = PREFIX + ":rate:{scope}:{subject}"                   # sliding-window send limits
STANDIN = PREFIX + ":standin:{name}"                        # the local WeCom stand-in's state
CRON_LAST_TICK = PREFIX + ":cron:last-tick"                 # the minute the last tick covered
CRON_DONE = PREFIX + ":cron:done:{name}:{minute}"           # a schedule entry ran for that minute
ALERTED_UP_TO = PREFIX + ":alerts:failed-deliveries"       # the last failed delivery admins were told about
CONTEST = PREFIX + ":contest:{chat_id}"                     # a group's contest: questions, open question, deadline
CONTEST_ANSWERS = PREFIX + ":contest-answers:{contest_id}:{index}"   # userid → first answer to one question
CONTEST_SCORES = PREFIX + ":contest-scores:{contest_id}"    # sorted set userid → total points
VOICE_MEDIA = PREFIX + ":voice-media:{target}:{audio_sha256}"   # uploaded voice → WeCom media id + upload time
ACTIVITY_SIGNIN_CODE = PREFIX + ":activity-code:{activity_id}"  # an activity's sign-in code and until when it is valid
ACTIVITY_STARTS = PREFIX + ":activity-starts"               # sorted set activity id → start: reminders still to scan for
LONGCONN_LOCK = PREFIX + ":longconn:lock:{bot_id}"         # who holds this bot's one long connection
LONGCONN_REQUESTS = PREFIX + ":longconn:requests:{bot_id}"  # list of pending aibot_send_msg requests (relay)
LONGCONN_ANSWER = PREFIX + ":longconn:answer:{request_id}"  # the ack of one relayed request, read once
LONGCONN_UPLOAD_DATA = PREFIX + ":longconn:upload-data:{request_id}"   # the bytes of one relayed upload, read once
DEMO_CLOCK_OFFSET = PREFIX + ":demo-clock:offset-seconds"   # how far the demo clock runs ahead of real time
DASHBOARD_LINK = PREFIX + ":dashboard:link:{token}"         # one-time sign-in link → userid, valid until
DASHBOARD_SESSION = PREFIX + ":dashboard:session:{sid}"     # a signed-in browser → userid, valid until
