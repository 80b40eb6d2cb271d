"""Stages the functions for `sam local invoke` and writes the built template, .aws-sam/build/template.yaml.

    copy   the local-profile binaries, target/local/<binary>, are copied to .aws-sam/build/<logical id>/bootstrap,
           where `sam build` would put them, and template.yaml is written there with each function's CodeUri
           pointing at its folder (and without its build Metadata)
    patch  (any other value) the template `sam build` wrote, .aws-sam/build/template.yaml, is kept as it is
Either way the functions' global environment then also declares AWS_ENDPOINT_URL, AWS_EC2_METADATA_DISABLED and
DATABASE_URL (empty), as `sam local invoke --env-vars` only sets variables the template declares (in AWS the
functions read the database from its secret, DATABASE_SECRET_ARN; locally they are given its URL).

Called by infra/sam-local, from the repository root (every path is relative to it):
    .venv/bin/python infra/py/sam_stage_functions.py copy|patch
Prints nothing.
"""
import os, shutil, sys
from samcli.yamlhelper import yaml_parse, yaml_dump
built = os.path.join(".aws-sam", "build", "template.yaml")
template = yaml_parse(open("template.yaml" if sys.argv[1] == "copy" else built).read())
for logical_id, resource in template["Resources"].items():
    if resource.get("Type") != "AWS::Serverless::Function" or sys.argv[1] != "copy":
        continue
    binary = resource["Metadata"]["BuildProperties"]["Binary"]
    target = os.path.join(".aws-sam", "build", logical_id)
    os.makedirs(target, exist_ok=True)
    shutil.copy2(os.path.join("target", "local", binary), os.path.join(target, "bootstrap"))
    resource["Properties"]["CodeUri"] = logical_id
    resource.pop("Metadata", None)
variables = template["Globals"]["Function"]["Environment"]["Variables"]
for name in ("AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "DATABASE_URL"):
    variables[name] = ""
open(built, "w").write(yaml_dump(template))
