"""The bank of `infra/bench quiz-load`: 200 tasks over 5 topics ("Load topic 0" to "Load topic 4", subtopic
"Basics"), each in English with 3 answers, written to FILE as the JSON the admin import route takes.

Called by infra/bench (quiz-load), from the repository root:
    .venv/bin/python infra/py/bench_quiz_bank.py FILE
FILE: where the bank goes (a temporary file under .local/). Prints nothing.
"""
import json, sys
tasks = [{"topic": f"Load topic {i % 5}", "subtopic": "Basics", "difficulty": ["easy", "medium", "hard"][i % 3],
          "translations": [{"language": "en", "question": f"Load question {i}: what is {i} + 1?",
                            "answers": [str(i), str(i + 1), str(i + 2)], "correct_answer": str(i + 1)}]}
         for i in range(200)]
json.dump({"tasks": tasks}, open(sys.argv[1], "w"))
