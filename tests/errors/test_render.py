"""How errors are shown: nothing echoed from a spec acts on the terminal, nothing is echoed
without bound, and the caret stays under the column it points at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from archspec.errors import MAX_SHOWN_CHARS, Location, SpecError

_ATTACK = "\x1b]0;pwned\x07\x1b[2K\rok  net.yaml"  # retitle the terminal, erase the line, print a fake ok


def test_control_characters_from_a_spec_are_shown_as_escapes_in_every_part() -> None:
    error = SpecError(
        f"unknown op '{_ATTACK}'",
        Location(f"net{_ATTACK}.yaml", 1, 1),
        trace=(_ATTACK,),
        expected=_ATTACK,
        found=_ATTACK,
        hint=_ATTACK,
        notes=(_ATTACK, "bidi \u202e reversed \u2066 isolate, zero\u200bwidth"),
    )
    for color in (False, True):
        text = error.render(color=color, snippet=False)
        own = text.replace("\x1b[31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "").replace("\x1b[2m", "")
        assert not any(c in own for c in "\x1b\x07\r\u202e\u2066\u200b"), repr(own)
        assert "\\x1b]0;pwned\\x07\\x1b[2K\\rok" in own
        assert "\\u202e reversed \\u2066 isolate, zero\\u200bwidth" in own


def test_a_long_value_is_cut_in_the_middle_and_says_how_much() -> None:
    digits = "9" * 100_000
    text = SpecError(f"invalid value {digits}", found=digits).render(snippet=False)
    assert len(text) < 3 * MAX_SHOWN_CHARS
    assert "characters)..." in text and text.count("9") < 2 * MAX_SHOWN_CHARS


def test_the_caret_stays_under_its_column_when_escapes_widen_the_line(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text('a: "\t\tconv(4, 3)"\n')
    excerpt = SpecError("x", Location(str(path), 1, 7, 11)).render(snippet=True).splitlines()[-2:]
    line, caret = excerpt
    assert "\t" not in line and "\\t\\tconv" in line
    assert line[caret.index("^") : caret.rindex("^") + 1] == "conv"


def test_check_never_prints_a_specs_control_characters(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text('archspec: 1\nname: t\ninput: [N, 3, 8, 8]\nnetwork:\n  "\\e]0;pwned\\a\\e[2K\\rok": conv(4, 3)\n')
    done = subprocess.run([sys.executable, "-m", "archspec", "check", str(spec)], capture_output=True, text=True)
    assert done.returncode == 1
    assert not any(c in done.stderr + done.stdout for c in "\x1b\x07\r"), repr(done.stderr)
    assert "\\x1b]0;pwned" in done.stderr
