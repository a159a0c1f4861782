"""`python -m content_packs check [ROOT]`: check every pack without starting the app (works when it won't start)."""
import sys

from content_packs import PACKS_ROOT, check_all, load_all

USAGE = "用法：python -m content_packs check [内容包目录]"


def main(argv: list[str]) -> int:
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
