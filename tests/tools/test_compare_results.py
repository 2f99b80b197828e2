"""tools/compare_results.py: GQ results side by side."""

import json

import pytest

from tests.common import load_tool


def test_table_from_two_result_files(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"GQ": 61.234, "GQ_kn": 90.0, "GQ_uk": 32.46, "per_class": {}}))
    b.write_text(json.dumps({"goss": {"GQ": 55.0, "GQ_kn": 90.0}}))
    load_tool("compare_results").main([f"GST={a}", f"one segment={b}"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| model | GQ | GQ_kn | GQ_uk |"
    assert lines[2] == "| GST | 61.2 | 90.0 | 32.5 |"
    assert lines[3] == "| one segment | 55.0 | 90.0 | – |"


def test_unreadable_file_names_it(tmp_path):
    with pytest.raises(SystemExit, match="missing.json"):
        load_tool("compare_results").main([f"x={tmp_path / 'missing.json'}"])
