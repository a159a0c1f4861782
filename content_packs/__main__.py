"""`python -m content_packs check [ROOT] | import-items SOURCE… --pack DIR`: work on packs without starting the app."""
import argparse
import sys

from content_packs import PACKS_ROOT, check_all, load_all

USAGE = ("用法：python -m content_packs check [内容包目录]\n"
         "      python -m content_packs import-items 来源… --pack 推送包目录 [--title 标题] [--audience 人群]")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "import-items":
        return _import_items(argv[1:])
    if not argv or argv[0] != "check" or len(argv) > 2:
        print(USAGE, file=sys.stderr)
        return 2
    root = argv[1] if len(argv) == 2 else PACKS_ROOT
    errors = check_all(root)
    for error in errors:
        print(error)
    if errors:
        print(f"共 {len(errors)} 处错误", file=sys.stderr)
        return 1
    print(f"全部 {len(load_all(root))} 个内容包校验通过")
    return 0


def _import_items(argv: list[str]) -> int:
    from bot.cohorts import DEFAULT_RULES, load_rules
    from content_packs.push_import import import_items

    parser = argparse.ArgumentParser(prog="python -m content_packs import-items", add_help=False)
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--pack", required=True)
    parser.add_argument("--title")
    parser.add_argument("--audience")
    try:
        args = parser.parse_args(argv)
    except SystemExit:           # argparse exits on bad arguments; we answer with our usage instead
        print(USAGE, file=sys.stderr)
        return 2
    # the default cohort rules: the app may use another file (COHORT_RULES), `flask packs import-items` knows it
    report = import_items(args.sources, args.pack, title=args.title, audience=args.audience,
                          cohorts=load_rules(DEFAULT_RULES).names)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
