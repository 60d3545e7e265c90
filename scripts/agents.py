"""Agent console accounts from the command line (issue 12, item 6; bot/accounts.py).

    python -m scripts.agents list
    python -m scripts.agents add NAME          # asks for the password (or --generate)
    python -m scripts.agents passwd NAME       # new password; ends all of NAME's sessions
    python -m scripts.agents disable NAME      # cannot log in; ends all of NAME's sessions
    python -m scripts.agents enable NAME

Works on the shop store of DATABASE_URL (.env), the one the running bot uses; changes
take effect at once, no restart. `--password-stdin` reads the password from standard
input (scripts, tests); `--generate` makes and prints a strong one.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import List, Optional

from bot.accounts import AccountError, Accounts, password_problem


def _password(args: argparse.Namespace) -> str:
    if args.generate:
        while True:
            password = secrets.token_urlsafe(15)
            if password_problem(password, args.name) is None:
                print(f"password for {args.name}: {password}")
                return password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.agents", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the accounts")
    for name, text in (("add", "a new agent"), ("passwd", "a new password (ends the agent's sessions)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        how = command.add_mutually_exclusive_group()
        how.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        how.add_argument("--generate", action="store_true", help="make a strong password and print it")
    for name, text in (("disable", "no more logins; ends the agent's sessions"), ("enable", "may log in again")):
        commands.add_parser(name, help=text).add_argument("name")
    args = parser.parse_args(argv)
    accounts = Accounts()
    try:
        if args.command == "list":
            for account in accounts.list():
                state = "enabled" if account["enabled"] else "disabled"
                print(f"{account['username']:<24} {state:<9} since {account['created_at']:%Y-%m-%d}")
        elif args.command == "add":
            accounts.add(args.name, _password(args))
            print(f"added {args.name}")
        elif args.command == "passwd":
            accounts.set_password(args.name, _password(args))
            print(f"password of {args.name} changed; their sessions are ended")
        else:
            accounts.set_enabled(args.name, args.command == "enable")
            print(f"{args.name} {args.command}d")
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
