"""The bank of `infra/bench replay`: 240 tasks over 6 topics ("Replay topic 0" to "Replay topic 5") of 4 subtopics
each ("Part 0" to "Part 3"), each in English with 3 answers, written to FILE as the JSON the admin import route
takes.

Called by infra/bench (replay), from the repository root:
    .venv/bin/python infra/py/bench_replay_bank.py FILE
FILE: where the bank goes (WORK/bank.json, in the run's scratch folder under .local/). Prints nothing.
"""
import json, sys
tasks = [{"topic": f"Replay topic {i % 6}", "subtopic": f"Part {i % 4}", "difficulty": ["easy", "medium", "hard"][i % 3],
          "translations": [{"language": "en", "question": f"Replay question {i}: what is {i} * 2?",
                            "answers": [str(i), str(i * 2), str(i * 3)], "correct_answer": str(i * 2)}]}
         for i in range(240)]
json.dump({"tasks": tasks}, open(sys.argv[1], "w"))
