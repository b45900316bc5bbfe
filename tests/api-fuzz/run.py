#!/usr/bin/env python3
"""Fuzz a running edgechat server with schemathesis, from its own /openapi.json.

    .venv/bin/python tests/api-fuzz/run.py http://127.0.0.1:8787 [schemathesis options]

Registers a fresh user so operations behind the bearer scheme get
authenticated cases, gives it a little world to act on (a public room with a
message and a second member, a private room), then runs every check of
schemathesis.toml against the operations listed in IMPLEMENTED. Half of the
generated room ids, user ids and usernames are those real ones, so cases get
past "not found" into the logic behind it. Exits with schemathesis's status:
non-zero on any 5xx, schema mismatch or other failed check.
"""

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

# The operations the server implements; add an operationId when its endpoint lands.
IMPLEMENTED = "getHealth getOpenApi register login refreshSession logout getMe createRoom listRooms getRoom joinRoom addMember removeMember setMemberRole openDm listMessages postMessage editMessage deleteMessage openRoomSocket listNotifications markNotificationsRead openNotificationSocket"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORK = ROOT / "target" / "schemathesis"


class Api:
    def __init__(self, base: str, address: str):
        self.base, self.address, self.token = base, address, None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"content-type": "application/json", "cf-connecting-ip": self.address}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def register(self) -> dict:
        name = "fuzz_" + secrets.token_hex(8)
        session = self.call("POST", "/api/v1/auth/register", {"username": name, "password": secrets.token_urlsafe(18)})
        self.token = session["access_token"]
        return session["user"]


def seed(base: str) -> tuple[str, str]:
    """The fuzzing user's token, and TOML binding parameters to real ids."""
    me, other = Api(base, "198.19.255.254"), Api(base, "198.19.255.253")
    me_user, other_user = me.register(), other.register()
    public = me.call("POST", "/api/v1/rooms", {"name": "fuzz public", "visibility": "public"})["id"]
    private = me.call("POST", "/api/v1/rooms", {"name": "fuzz private", "visibility": "private"})["id"]
    me.call("POST", f"/api/v1/rooms/{public}/members", {"username": other_user["username"]})
    me.call("POST", f"/api/v1/rooms/{public}/messages", {"body": "hello", "client_id": "seed-1"})
    values = {
        "room_id": [public, private],
        "user_id": [me_user["id"], other_user["id"]],
        "username": [other_user["username"]],
    }
    toml = "".join(f"\n[dictionaries.{name}]\nvalues = {json.dumps(v)}\n" for name, v in values.items())
    toml += "\n[parameters]\n"
    for key, name in [("path.room_id", "room_id"), ("path.user_id", "user_id"), ("body.username", "username")]:
        toml += f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}\n'
    return me.token, toml


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    token, bindings = seed(base)
    WORK.mkdir(parents=True, exist_ok=True)
    config = WORK / "run.toml"
    config.write_text((HERE / "schemathesis.toml").read_text() + bindings)
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{base}/openapi.json",
        "--url",
        base,
    ]
    for operation in IMPLEMENTED.split():
        cmd += ["--include-operation-id", operation]
    cmd += sys.argv[2:]
    return subprocess.call(cmd, env=dict(os.environ, EDGECHAT_ACCESS_TOKEN=token), cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
