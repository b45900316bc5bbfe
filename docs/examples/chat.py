"""Sign up, create a room and say hello over its WebSocket: python chat.py [BASE_URL]"""
import json, sys, urllib.request, uuid

from websockets.sync.client import connect  # pip install websockets

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8787"

def post(path, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(BASE + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)

me = "guide_" + uuid.uuid4().hex[:8]
token = post("/api/v1/auth/register", {"username": me, "password": "correct horse battery"})["access_token"]
room = post("/api/v1/rooms", {"name": "Guide demo", "visibility": "public"}, token)

socket_url = BASE.replace("http", "ws", 1) + f"/api/v1/rooms/{room['id']}/ws"
with connect(socket_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
    welcome = json.loads(ws.recv())  # always the first frame
    client_id = str(uuid.uuid4())    # the same id on a retry can never post twice
    ws.send(json.dumps({"type": "send", "client_id": client_id, "body": "hello, edgechat"}))
    while (frame := json.loads(ws.recv()))["type"] != "ack":
        pass                         # presence, typing and other frames may come first
    print(f"{me} said hello in {room['name']!r}: seq {frame['seq']}, durably stored")
