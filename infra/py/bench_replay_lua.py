"""The wrk script of `infra/bench replay`: the ids the players read, and a read-heavy mix of requests over them.

Reads the imported tasks' ids from WORK/import.json (the import route's answer) and the players' session tokens
from WORK/tokens (one a line), lists the topics and each topic's subtopics through the API as one player, and
writes WORK/replay.lua: every request is from a random player (fixed seed), mostly reads (topics, subtopics,
task lists, statistics, the leaderboard) and 5 % answers.

Called by infra/bench (replay), from the repository root:
    .venv/bin/python infra/py/bench_replay_lua.py BASE WORK TOKEN
BASE: the gateway's URL; WORK: the run's scratch folder (under .local/); TOKEN: a player's session token (the
first of WORK/tokens). Prints how many players, topics, subtopics and tasks the script uses.
"""
import json, sys, urllib.request
base, work, token = sys.argv[1:4]
def get(path):
    req = urllib.request.Request(base + path, headers={"authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
tasks = [t["task_id"] for t in json.load(open(f"{work}/import.json"))["tasks"] if t.get("task_id")]
topics = [t["id"] for t in get("/api/v1/topics")["topics"]]
subtopics = [s["id"] for t in topics for s in get(f"/api/v1/topics/{t}/subtopics")["subtopics"]]
tokens = open(f"{work}/tokens").read().split()
lua = lambda xs: "{" + ",".join(str(x) if isinstance(x, int) else json.dumps(x) for x in xs) + "}"
open(f"{work}/replay.lua", "w").write(f"""
tokens = {lua(tokens)}
tasks = {lua(tasks)}
topics = {lua(topics)}
subtopics = {lua(subtopics)}
math.randomseed(42)
local function pick(xs) return xs[math.random(#xs)] end
request = function()
  local headers = {{["authorization"] = "Bearer " .. pick(tokens)}}
  local r = math.random(100)
  if r <= 25 then return wrk.format("GET", "/api/v1/topics", headers)
  elseif r <= 35 then return wrk.format("GET", "/api/v1/topics/" .. pick(topics), headers)
  elseif r <= 45 then return wrk.format("GET", "/api/v1/topics/" .. pick(topics) .. "/subtopics", headers)
  elseif r <= 65 then return wrk.format("GET", "/api/v1/subtopics/" .. pick(subtopics) .. "/tasks", headers)
  elseif r <= 75 then return wrk.format("GET", "/api/v1/me/stats", headers)
  elseif r <= 85 then return wrk.format("GET", "/api/v1/leaderboard", headers)
  elseif r <= 95 then return wrk.format("GET", "/api/v1/stats", headers)
  else
    headers["content-type"] = "application/json"
    return wrk.format("POST", "/api/v1/tasks/" .. pick(tasks) .. "/answer", headers, '{{"option_index": 1}}')
  end
end
""")
print(f"{len(tokens)} players, {len(topics)} topics, {len(subtopics)} subtopics, {len(tasks)} tasks")
