"""Static checks of the API document, the part of infra/api-check that needs no running service.

The document must be valid OpenAPI (checked with openapi_spec_validator when it is installed; schemathesis loads
and resolves the whole document anyway), and schemathesis must generate at least one positive request for every
operation (up to 5 draws each, no Hypothesis database).

Called by infra/api-check (with or without --static), from the repository root, with the project's interpreter:
    .venv/bin/python infra/py/api_static_check.py openapi.yaml
Argument: the path of the OpenAPI document. Prints "<n> operations load and generate"; exits non-zero with the
validator's error, or naming the operation schemathesis generated no request for.
"""
import sys, warnings
warnings.filterwarnings("ignore")
spec = sys.argv[1]
try:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename
    document, _ = read_from_filename(spec)
    validate(document)
except ImportError:
    pass  # schemathesis below still loads and resolves the whole document
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

operations = 0
for result in schemathesis.openapi.from_path(spec).get_all_operations():
    operation = result.ok()
    operations += 1
    drawn = []

    @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def draw(case):
        drawn.append(case)

    draw()
    if not drawn:
        sys.exit(f"schemathesis generated no request for {operation.label}")
print(f"{operations} operations load and generate")
