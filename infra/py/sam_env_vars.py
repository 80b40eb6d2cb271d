"""The --env-vars file of infra/sam-local's `sam local invoke`: .local/sam-env.json.

Every variable template.yaml's functions declare (Globals.Function.Environment), the database URL (in AWS the
functions read it from a secret), and the AWS endpoint, region, credentials and metadata switch, with its value in this process's environment (infra/sam-local exports
infra/local.env; a variable not set is empty) and 127.0.0.1 rewritten to host.containers.internal, the host as a
container sees it.

Called by infra/sam-local, from the repository root, with no arguments:
    .venv/bin/python infra/py/sam_env_vars.py
Prints nothing.
"""
import json, os
from samcli.yamlhelper import yaml_parse
declared = yaml_parse(open("template.yaml").read())["Globals"]["Function"]["Environment"]["Variables"]
names = set(declared) | {"DATABASE_URL", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
values = {n: os.environ.get(n, "").replace("127.0.0.1", "host.containers.internal") for n in sorted(names)}
json.dump({"Parameters": values}, open(".local/sam-env.json", "w"), indent=1)
