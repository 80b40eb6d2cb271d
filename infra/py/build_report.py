"""The deploy build's report (infra/build): each function's bootstrap, its size and its size zipped as SAM and
Lambda zip it (deflate), against the 10 MB budget (reported, not refused). Exits 1 when a function has no bootstrap."""

import argparse
import io
import pathlib
import sys
import zipfile

from samcli.yamlhelper import yaml_parse

BUDGET = 10 * 1000 * 1000  # bytes; "10 MB" as AWS counts its package limits


def zipped_size(path: pathlib.Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "bootstrap")
    return len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compile-s", type=int, required=True)
    parser.add_argument("--sam-s", type=int, required=True)
    args = parser.parse_args()
    template = yaml_parse(pathlib.Path("template.yaml").read_text())
    functions = sorted(
        lid for lid, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"
    )
    rows, problems, over = [], [], []
    for lid in functions:
        path = pathlib.Path(".aws-sam/build") / lid / "bootstrap"
        if not path.is_file():
            problems.append(f"{lid}: no bootstrap at {path}")
            continue
        size = path.stat().st_size
        rows.append((lid, size, zipped_size(path)))
        if size > BUDGET:
            over.append(f"{lid}: bootstrap {size / 1e6:.1f} MB, over the {BUDGET / 1e6:.0f} MB budget")
    total = args.compile_s + args.sam_s
    print(f"deploy build: {len(rows)} functions in {total // 60} min {total % 60} s "
          f"(cargo lambda build {args.compile_s} s, sam build {args.sam_s} s)")
    print(f"{'function':<28} {'bootstrap':>11} {'zipped':>11}")
    for lid, size, zipped in rows:
        print(f"{lid:<28} {size / 1e6:>8.2f} MB {zipped / 1e6:>8.2f} MB")
    if rows:
        sizes = sorted(r[1] for r in rows)
        zips = sorted(r[2] for r in rows)
        print(f"{'smallest / median / largest':<28} {sizes[0] / 1e6:.2f} / {sizes[len(sizes) // 2] / 1e6:.2f} / "
              f"{sizes[-1] / 1e6:.2f} MB; zipped {zips[0] / 1e6:.2f} / {zips[len(zips) // 2] / 1e6:.2f} / "
              f"{zips[-1] / 1e6:.2f} MB")
    # Over the budget is reported, not refused: Lambda itself takes up to 250 MB unzipped.
    for line in over:
        print(f"[build] {line}", file=sys.stderr)
    for problem in problems:
        print(f"[build] {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
