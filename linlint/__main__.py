"""``python -m linlint``: the same as the ``linlint`` command."""

from linlint.cli.app import main

if __name__ == "__main__":
    main()
