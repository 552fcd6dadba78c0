"""The README's Python example runs and gives what it says."""
import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def test_readme_engine_example():
    text = README.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["res"]["LR"][-1] == pytest.approx(0.5, abs=1e-5)   # Bmax L / (Kd + L), L = Kd


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one():
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, re.S)
    assert commands == ['python -m pip install . && nmdakin demo', 'python -m pip install ".[test]" && python -m pytest']
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()
