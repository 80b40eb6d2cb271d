"""The fixtures of infra/api-check's live run, and the schemathesis configuration that points at them.

Imports (and publishes) a two-task bank through the admin API, publishes its first task again, looks up the ids
of the bank's topic and subtopic and of the signed-in admin and player, and writes WORK/schemathesis.toml: no
cache, and dictionaries that send a share of the generated ids to these resources.

Called by infra/api-check before its schemathesis passes, from the repository root:
    .venv/bin/python infra/py/api_fixtures.py BASE TOKEN WORK
BASE: the gateway's URL (http://127.0.0.1:$LOCAL_GATEWAY_PORT); TOKEN: the admin's session token; WORK: the run's
scratch folder, which already holds admin.json and player.json (the answers of `local-cloud sign-in`). Prints the
ids it found; exits non-zero when the bank does not import or a request fails.
"""
import json, sys, urllib.request

base, token, work = sys.argv[1], sys.argv[2], sys.argv[3]

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)

def task(group, question, answers, correct, difficulty):
    return {"topic": "API check", "subtopic": "Contract", "difficulty": difficulty, "translation_group_id": group,
            "translations": [
                {"language": "en", "question": question, "answers": answers, "correct_answer": correct,
                 "explanation": "See the documentation.", "external_link": "https://example.com/learn"},
                {"language": "ru", "question": question + " (ru)", "answers": answers, "correct_answer": correct}]}

bank = {"tasks": [
    task("api-check-1", "What does `print(1 + 1)` print?", ["1", "2", "11"], "2", "easy"),
    task("api-check-2", "What does `print(len('ab'))` print?", ["1", "2"], "2", "medium"),
]}
report = call("POST", "/api/v1/admin/tasks/import?publish=true", bank)
task_ids = [t["task_id"] for t in report["tasks"] if "task_id" in t]
if len(task_ids) != 2:
    sys.exit(f"the api-check bank did not import: {report}")
# The second task is only ever (un)published by the update-task pass, so the first stays answerable.
call("PATCH", f"/api/v1/admin/tasks/{task_ids[0]}", {"published": True})
topics = call("GET", "/api/v1/topics?lang=en")["topics"]
topic_id = next(t["id"] for t in topics if t["name"] == "API check")
subtopics = call("GET", f"/api/v1/topics/{topic_id}/subtopics?lang=en")["subtopics"]
subtopic_id = next(s["id"] for s in subtopics if s["name"] == "Contract")
user_ids = [json.load(open(f"{work}/{who}.json"))["user"]["id"] for who in ("admin", "player")]

with open(f"{work}/schemathesis.toml", "w") as config:
    config.write(f"""
# No state kept between runs (schemathesis would otherwise replay earlier crashes from .schemathesis/), so a
# run depends only on the seed and the data.
[cache]
enabled = false

[dictionaries.topic_ids]
values = [{topic_id}]
[dictionaries.subtopic_ids]
values = [{subtopic_id}]
[dictionaries.answer_task_ids]
values = [{task_ids[0]}]
[dictionaries.toggle_task_ids]
values = [{task_ids[1]}]
[dictionaries.user_ids]
values = [{", ".join(map(str, user_ids))}]
[dictionaries.languages]
values = ["en", "ru"]

[parameters]
"path.topic_id" = {{ dictionary = "topic_ids", probability = 0.5 }}
"path.subtopic_id" = {{ dictionary = "subtopic_ids", probability = 0.5 }}
"path.user_id" = {{ dictionary = "user_ids", probability = 0.5 }}
"query.topic" = {{ dictionary = "topic_ids", probability = 0.3 }}

[[operations]]
include-operation-id = "submit-answer"
parameters = {{ "path.task_id" = {{ dictionary = "answer_task_ids", probability = 0.5 }}, "body.language" = {{ dictionary = "languages", probability = 0.5 }} }}

[[operations]]
include-operation-id = "update-task"
parameters = {{ "path.task_id" = {{ dictionary = "toggle_task_ids", probability = 0.5 }} }}
""")
print(f"topic {topic_id}, subtopic {subtopic_id}, tasks {task_ids}, users {user_ids}")
