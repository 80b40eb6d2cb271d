"""Cold start and memory of the deploy artifacts: infra/bench deploy runs it against a local cloud serving the
functions `sam build` made (.aws-sam/build/<logical id>/bootstrap), one instance of each.

    bench_deploy.py BASE_URL CONTROL_URL BUILD_DIR PHOTO [REQUESTS]

For health, list-topics and submit-answer: the cold start (the local cloud's measure: from the first invocation
sent to the runtime emulator, which starts the binary then, to its answer), then REQUESTS (default 1000) warm
requests on one keep-alive connection, then the bootstrap process's resident memory (VmRSS) and its peak
(VmHWM) from /proc. For process-uploaded-file: its cold start and its peak on one upload of PHOTO (a 12-megapixel
JPEG), its cold start taken on an empty batch invoked first. Signs in with initData signed by TELEGRAM_BOT_TOKEN (infra/local.env), as the smoke does.
"""

import http.client
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from smoke import init_data, request, wait_for_upload  # noqa: E402

COLD_START_BUDGET_MS = 30
RSS_BUDGET_MB = 30


def status(control):
    code, body = request("GET", control + "/_local/status")
    assert code == 200, (code, body)
    return body["functions"]


def cold_starts(control, binary):
    return status(control)[binary]["cold_starts_ms"]


def memory(build_dir, logical_id):
    """(VmRSS, VmHWM) in MB of the process running <build_dir>/<logical_id>/bootstrap."""
    bootstrap = os.path.realpath(os.path.join(build_dir, logical_id, "bootstrap"))
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe") != bootstrap:
                continue
            fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
        except OSError:
            continue
        kb = lambda name: int(fields[name].split()[0])  # noqa: E731
        return kb("VmRSS") / 1024, kb("VmHWM") / 1024
    raise SystemExit(f"no process runs {bootstrap}")


def warm(base, method, path, token, body, n):
    """n requests on one keep-alive connection; every one must answer 2xx."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    started = time.monotonic()
    for _ in range(n):
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        assert 200 <= response.status < 300, (method, path, response.status)
    connection.close()
    return (time.monotonic() - started) / n * 1000


def main():
    base, control, build_dir, photo_path = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    bot_token = os.environ["TELEGRAM_BOT_TOKEN"]
    admin_id = int(os.environ["ADMIN_TELEGRAM_IDS"].split(",")[0])

    def call(method, path, token=None, body=None, raw=None, headers=None):
        code, answer = request(method, base + path, token, body, raw, headers)
        assert 200 <= code < 300, (method, path, code, answer)
        return answer

    def sign_in(telegram_id, name):
        return call("POST", "/api/v1/auth/telegram/mini-app", body={"init_data": init_data(telegram_id, name, bot_token)})["token"]

    admin = sign_in(admin_id, "Bench admin")
    player = sign_in(7_100_000_000 + int(time.time()) % 1_000_000, "Bench")
    run = f"{int(time.time())}"
    topic = f"Deploy bench {run}"
    bank = {"tasks": [{"topic": topic, "subtopic": "Basics", "difficulty": "easy",
                       "translations": [{"language": "en", "question": "What does `print(len('abc'))` print?",
                                         "answers": ["2", "3", "4"], "correct_answer": "3"}]}]}
    task_id = call("POST", "/api/v1/admin/tasks/import", admin, bank)["tasks"][0]["task_id"]

    rows = []
    for logical_id, binary, method, path, body in [
        ("Health", "health", "GET", "/api/v1/health", None),
        ("ListTopics", "list-topics", "GET", "/api/v1/topics?lang=en", None),
        ("SubmitAnswer", "submit-answer", "POST", f"/api/v1/tasks/{task_id}/answer", {"option_index": 1}),
    ]:
        before = len(cold_starts(control, binary))
        call(method, path, player, body)
        cold = cold_starts(control, binary)[before:]
        per_request = warm(base, method, path, player, body, n)
        rss, peak = memory(build_dir, logical_id)
        rows.append((binary, cold[0] if cold else None, f"{n} warm requests, {per_request:.2f} ms each", rss, peak))

    # The job's cold start on its own: an empty batch, invoked directly, before the photo's batch.
    code, answer = request("POST", control + "/_local/invoke/process-uploaded-file", body={"Records": []})
    assert code == 200, ("an empty batch", code, answer)
    job_cold = cold_starts(control, "process-uploaded-file")
    with open(photo_path, "rb") as f:
        photo = f.read()
    ticket = call("POST", "/api/v1/uploads", player, {"purpose": "feedback_image", "content_type": "image/jpeg", "size": len(photo)})
    code, answer = request(ticket["upload"]["method"], ticket["upload"]["url"], raw=photo, headers=ticket["upload"]["headers"])
    assert 200 <= code < 300, ("pre-signed PUT", code, answer)
    call("POST", f"/api/v1/uploads/{ticket['id']}/complete", player)
    upload = wait_for_upload(lambda: call("GET", f"/api/v1/uploads/{ticket['id']}", player), 120, 0.5)
    assert upload.get("status") == "ready", upload
    rss, peak = memory(build_dir, "ProcessUploadedFile")
    rows.append(("process-uploaded-file", job_cold[0] if job_cold else None,
                 f"one {len(photo) / 1e6:.1f} MB 4000x3000 JPEG", rss, peak))

    print(f"budgets: cold start <= {COLD_START_BUDGET_MS} ms, RSS <= {RSS_BUDGET_MB} MB")
    print(f"{'function':<24} {'cold start':>11} {'RSS':>8} {'peak RSS':>9}  after")
    for binary, cold, after, rss, peak in rows:
        cold_text = f"{cold:.1f} ms" if cold is not None else "warm"
        print(f"{binary:<24} {cold_text:>11} {rss:>5.1f} MB {peak:>6.1f} MB  {after}")


if __name__ == "__main__":
    main()
