"""The end-to-end path of a new player and an admin against any deployment of the API (infra/smoke runs it).

    smoke.py BASE_URL PHOTO

Environment: SMOKE_BOT_TOKEN (the bot token that signs Mini App initData), SMOKE_ADMIN_TELEGRAM_ID (one of the
deployment's ADMIN_TELEGRAM_IDS). Standard library only, so it runs with any Python 3.

Each step prints its name; the first that fails prints what it got and exits 1 with the step named. What the
run created is cleaned up as far as the API allows, whether it passed or not: the imported tasks are
unpublished (their topic leaves every list), the avatar is removed and both sessions are signed out. The
player's account and its answer stay: no route deletes an account.
"""

import functools
import hashlib
import hmac
import http.client
import random
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


class StepFailed(Exception):
    pass


class _FromOwnLoopbackAddress(urllib.request.HTTPHandler):
    """Plain HTTP from one 127.x.y.z address of this run: the API limits sign-ins and contact forms per client
    address, and earlier runs on this machine (the tests, other smoke runs) spend 127.0.0.1's. As the tests'
    fresh_loopback_client does."""

    address = f"127.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(2, 255)}"

    def http_open(self, req):
        if req.host.split(":")[0] not in ("127.0.0.1", "localhost"):
            return super().http_open(req)
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req)


_opener = urllib.request.build_opener(_FromOwnLoopbackAddress)


def request(method, url, token=None, body=None, raw=None, headers=None):
    """One HTTP exchange: (status, parsed JSON or text)."""
    headers = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener.open(req, timeout=30) as response:
            status, text = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace")
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def wait_for_upload(fetch, seconds, interval):
    """Calls fetch() (GET /api/v1/uploads/{id}'s answer) until the upload is no longer pending or processing, or
    `seconds` have passed; returns its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        upload = fetch()
        if upload.get("status") not in ("pending", "processing") or time.monotonic() > deadline:
            return upload
        time.sleep(interval)


def init_data(telegram_id, first_name, bot_token):
    """Mini App initData as Telegram signs it: HMAC-SHA256 under HMAC-SHA256("WebAppData", bot token)."""
    auth_date = str(int(time.time()))
    fields = {
        "query_id": f"smoke-{telegram_id}-{auth_date}",
        "user": json.dumps({"id": telegram_id, "first_name": first_name, "language_code": "en"}, separators=(",", ":")),
        "auth_date": auth_date,
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode(fields)


def main():
    base, photo_path = sys.argv[1].rstrip("/"), sys.argv[2]
    bot_token = os.environ["SMOKE_BOT_TOKEN"]
    admin_id = int(os.environ["SMOKE_ADMIN_TELEGRAM_ID"])
    run = uuid.uuid4().hex[:12]
    created = {"tasks": [], "avatar": None, "tokens": []}
    step_name = "start"

    def step(name):
        nonlocal step_name
        step_name = name
        print(f"[smoke] {name}", flush=True)

    def expect(condition, what, got):
        if not condition:
            raise StepFailed(f"{what}; got {json.dumps(got)[:2000] if not isinstance(got, str) else got[:2000]}")

    def call(method, path, token=None, body=None, want=(200,)):
        want = (want,) if isinstance(want, int) else want
        status, answer = request(method, base + path, token, body)
        expect(status in want, f"{method} {path} answered {status}, not {' or '.join(map(str, want))}", answer)
        return answer

    def sign_in(telegram_id, name):
        # 201 for an account made by this sign-in, 200 for one that was there.
        body = {"init_data": init_data(telegram_id, name, bot_token)}
        token = call("POST", "/api/v1/auth/telegram/mini-app", body=body, want=(200, 201))["token"]
        created["tokens"].append(token)
        return token

    try:
        step("health")
        health = call("GET", "/api/v1/health")
        expect(health.get("status") == "ok", "the health route is not ok", health)

        step("sign in: the admin and a new player, through the Mini App")
        admin = sign_in(admin_id, "Smoke admin")
        player = sign_in(7_000_000_000 + int(run[:8], 16) % 1_000_000_000, "Smoke")

        step("import a two-task bank under a topic of this run")
        topic = f"Smoke {run}"
        bank = {"tasks": [
            {"topic": topic, "subtopic": "Basics", "difficulty": "easy",
             "translations": [{"language": "en", "question": "What does `print(len('abc'))` print?",
                               "answers": ["2", "3", "4"], "correct_answer": "3", "explanation": "len counts characters."}]},
            {"topic": topic, "subtopic": "Basics", "difficulty": "hard",
             "translations": [{"language": "en", "question": "Which of these is immutable?",
                               "answers": ["list", "tuple", "dict"], "correct_answer": "tuple"}]},
        ]}
        report = call("POST", "/api/v1/admin/tasks/import", admin, bank)
        created["tasks"] = [t["task_id"] for t in report.get("tasks", [])]
        expect(report.get("created") == 2, "the import did not create both tasks", report)

        step("browse: the topic, its subtopic, the feed without the answers")
        topics = call("GET", f"/api/v1/topics?lang=en&search={urllib.parse.quote(run)}", player)
        listed = [t for t in topics["topics"] if t["name"] == topic]
        expect(len(listed) == 1 and listed[0]["task_count"] == 2, "the topic is not listed with its 2 tasks", topics)
        topic_id = listed[0]["id"]
        subtopics = call("GET", f"/api/v1/topics/{topic_id}/subtopics?lang=en", player)["subtopics"]
        expect(len(subtopics) == 1, "the topic has not one subtopic", subtopics)
        feed = call("GET", f"/api/v1/subtopics/{subtopics[0]['id']}/tasks?lang=en", player)
        expect(len(feed["tasks"]) == 2, "the feed has not the 2 tasks", feed)
        expect(all("correct_index" not in t and "explanation" not in t for t in feed["tasks"]),
               "the feed gives the answer away", feed)

        step("answer the easy task rightly")
        easy = next(t for t in feed["tasks"] if t["difficulty"] == "easy")
        outcome = call("POST", f"/api/v1/tasks/{easy['id']}/answer", player, {"option_index": easy["options"].index("3")})
        expect(outcome.get("correct") is True and outcome.get("counted") is True and outcome.get("rating") == 10,
               "the answer did not count as right for 10 points", outcome)

        step("statistics")
        stats = call("GET", "/api/v1/me/stats", player)
        expect((stats.get("solved"), stats.get("rating")) == (1, 10), "the statistics do not show the answer", stats)

        step("leaderboard: the players of this run's topic")
        call("PATCH", "/api/v1/me", player, {"favourite_topic_ids": [topic_id]})
        board = call("GET", f"/api/v1/leaderboard?topic={topic_id}")
        rows = board.get("rows", [])
        expect(len(rows) == 1 and rows[0]["user_id"] == stats["user_id"] and rows[0]["rating"] == 10,
               "the board of the topic does not hold the player alone", board)

        step("contact form: accepted at once")
        call("POST", "/api/v1/contact", body={"name": "Smoke", "email": "smoke@example.com",
                                             "message": f"Smoke run {run}: please ignore."}, want=202)

        step("avatar: upload through the pre-signed URL, then processed")
        with open(photo_path, "rb") as f:
            photo = f.read()
        ticket = call("POST", "/api/v1/uploads", player,
                      {"purpose": "avatar", "content_type": "image/jpeg", "size": len(photo)}, want=201)
        status, answer = request(ticket["upload"]["method"], ticket["upload"]["url"], raw=photo,
                                 headers=ticket["upload"]["headers"])
        expect(200 <= status < 300, f"the pre-signed PUT answered {status}", answer)
        call("POST", f"/api/v1/uploads/{ticket['id']}/complete", player, want=202)
        created["avatar"] = ticket["id"]
        upload = wait_for_upload(lambda: call("GET", f"/api/v1/uploads/{ticket['id']}", player), 60, 1)
        expect(upload.get("status") == "ready" and upload.get("width") == upload.get("height"),
               "the avatar was not processed into a square within 60 s", upload)
    except (StepFailed, KeyError, TypeError, StopIteration, urllib.error.URLError, OSError) as e:
        detail = str(e) if isinstance(e, StepFailed) else repr(e)
        print(f"[smoke] FAILED at step \"{step_name}\": {detail}", file=sys.stderr)
        cleanup(base, created)
        return 1
    cleanup(base, created)
    print("[smoke] passed")
    return 0


def cleanup(base, created):
    """Unpublishes the run's tasks, removes its avatar and signs its sessions out; reports what it could not."""
    tokens = created["tokens"]
    admin, player = (tokens + [None, None])[:2]
    undone = []
    for task_id in created["tasks"]:
        status, _ = request("PATCH", f"{base}/api/v1/admin/tasks/{task_id}", admin, {"published": False})
        if status != 200:
            undone.append(f"task {task_id} still published ({status})")
    if created["avatar"] and player:
        status, _ = request("DELETE", f"{base}/api/v1/me/avatars/{created['avatar']}", player)
        if status not in (200, 204):
            undone.append(f"avatar {created['avatar']} not removed ({status})")
    for token in tokens:
        request("POST", f"{base}/api/v1/auth/logout", token)
    print("[smoke] cleaned up" + (": except " + "; ".join(undone) if undone else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
