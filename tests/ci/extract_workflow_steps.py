#!/usr/bin/env python3
"""Writes the `run:` scripts of the GitHub Actions workflow in docs/ci.md, one file per step, for run_ci_workflow.sh.

    extract_workflow_steps.py docs/ci.md OUT_DIR

The workflow is the first ```yaml block of the page. Each step becomes OUT_DIR/NN.sh, with its name in OUT_DIR/NN.name;
steps without `run:` (`uses:` actions) are listed in OUT_DIR/skipped. No YAML library is needed: the workflow is read by
indentation, as GitHub's own examples are written (`- name:` items, `run: |` block scalars).
"""
import os
import re
import sys

page, out = sys.argv[1], sys.argv[2]
text = open(page, encoding="utf-8").read()
match = re.search(r"```yaml\n(.*?)```", text, re.S)
if not match:
    sys.exit(f"{page}: no ```yaml block")
workflow = match.group(1)
try:  # a syntax check when PyYAML is there; the extraction below does not need it
    import yaml
    yaml.safe_load(workflow)
except ImportError:
    pass

lines = workflow.split("\n")
steps, current = [], None
for index, line in enumerate(lines):
    item = re.match(r"^(\s*)- (name|uses): (.*)$", line)
    if item:
        current = {"name": item.group(3) if item.group(2) == "name" else "uses " + item.group(3), "run": None, "indent": len(item.group(1))}
        steps.append(current)
        continue
    run = re.match(r"^(\s*)run: \|\s*$", line)
    if run and current is not None:
        indent = None
        body = []
        for following in lines[index + 1:]:
            if following.strip() and (len(following) - len(following.lstrip())) <= len(run.group(1)):
                break
            if following.strip() and indent is None:
                indent = len(following) - len(following.lstrip())
            body.append(following[indent:] if indent is not None and following.strip() else "")
        current["run"] = "\n".join(body).rstrip() + "\n"

os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "skipped"), "w") as skipped:
    number = 0
    for step in steps:
        if step["run"] is None:
            skipped.write(step["name"] + "\n")
            continue
        number += 1
        with open(os.path.join(out, f"{number:02d}.sh"), "w") as script:
            script.write(step["run"])
        with open(os.path.join(out, f"{number:02d}.name"), "w") as name:
            name.write(step["name"] + "\n")
