"""`python -m sample_app <role>`: the container command picks the role."""

from __future__ import annotations

import sys

ROLES = ("web", "worker", "process-upload", "prune")


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else "web"
    if role not in ROLES:
        print(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    # Imported here: each role creates only the AWS clients it uses, once, at import.
    if role == "web":
        from sample_app import web

        web.serve()
        return 0
    if role == "worker":
        from sample_app import worker

        worker.run()
        return 0
    from sample_app import tasks

    return tasks.process_upload() if role == "process-upload" else tasks.prune()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
