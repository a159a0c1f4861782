"""`python -m bot run` starts everything; `python -m bot say …` talks to it like WeCom would."""
import sys

USAGE = ("用法 / usage: python -m bot run | python -m bot say --as USERID [--group] 文本 | python -m bot longconn"
         " | python -m bot standin-longconn")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "run":
        from bot.runner import main as run

        return run(argv[1:])
    if argv[0] == "say":
        from bot.terminal_client import main as say

        return say(argv[1:])
    if argv[0] == "longconn":
        from bot.longconn.process import main as longconn

        return longconn(argv[1:])
    if argv[0] == "standin-longconn":
        from bot.standin.longconn_bridge import main as standin_longconn

        return standin_longconn(argv[1:])
    print(USAGE, file=sys.stderr)
    return 2


sys.exit(main(sys.argv[1:]))
