"""Every Redis key format in one place, all under the ``szzs:`` prefix."""

PREFIX = "szzs"

DEDUPE = PREFIX + ":dedupe:{channel}:{msg_id}"             # callback seen → stored passive reply
ACCESS_TOKEN = PREFIX + ":token:{corp_id}:{agent_id}"       # app access_token shared by all processes
TOKEN_LOCK = PREFIX + ":token-lock:{corp_id}:{agent_id}"    # one process fetches a token at a time
RATE = PREFIX + ":rate:{scope}:{subject}"                   # sliding-window send limits
CLOCK_OFFSET = PREFIX + ":clock:offset"                     # demo clock: seconds added to real time
STANDIN = PREFIX + ":standin:{name}"                        # the local WeCom stand-in's state
