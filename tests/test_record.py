"""The typed run record: every committed record reads, round-trips and migrates; table specs fail early."""

import json
from pathlib import Path

import pytest

from fer_bench.core.errors import FerBenchError
from fer_bench.core.record import RECORD_SCHEMA, FailedRecord, RunRecord, decode_record, load_records
from fer_bench.core.table_specs import ArenaTable, SweepTable, TargetTable, parse_tables

RESULTS = Path(__file__).resolve().parents[1] / "results"
COMMITTED = sorted(RESULTS.glob("**/runs/*.json"))


def _contains(written: dict | list, read: dict | list, where: str = "") -> None:
    """Every value of the file is in the re-encoded record, unchanged (migration may only add keys)."""
    if isinstance(written, dict):
        for k, v in written.items():
            if k != "schema":
                assert k in read, f"{where}/{k} lost"
                _contains(v, read[k], f"{where}/{k}")
    else:
        assert written == read, where


def test_there_are_committed_records_to_check():
    assert len(COMMITTED) >= 70


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_every_committed_record_round_trips(path):
    raw = json.loads(path.read_text())
    rec = decode_record(raw, str(path))
    encoded = rec.encode()
    _contains(raw, encoded)
    assert encoded["schema"] == RECORD_SCHEMA
    again = type(rec).decode(json.loads(json.dumps(encoded)))
    assert again == rec and again.encode() == encoded


def test_a_schema_1_record_without_optional_keys_is_migrated(tmp_path):
    raw = json.loads(COMMITTED[0].read_text())
    for key in ("meta", "test_labels", "test_probs", "model_file"):
        raw.pop(key, None)
    raw["schema"] = 1
    (tmp_path / "old.json").write_text(json.dumps(raw))
    [rec], failed = load_records(tmp_path)
    assert not failed and rec.meta == {} and rec.label == "" and rec.test_labels == [] and rec.probs() is None
    assert rec.encode()["schema"] == RECORD_SCHEMA


def test_records_this_version_cannot_read_are_one_clear_error(tmp_path):
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(FerBenchError, match="a.json: not a valid run record"):
        load_records(tmp_path)
    raw = json.loads(COMMITTED[0].read_text())
    with pytest.raises(FerBenchError, match="newer than this fer-bench reads"):
        decode_record({**raw, "schema": RECORD_SCHEMA + 1})
    del raw["metrics"]
    with pytest.raises(FerBenchError, match="KeyError: 'metrics'"):
        decode_record(raw, "x.json")


def test_a_failed_record_is_its_own_type():
    rec = decode_record({"status": "failed", "run_id": "c", "reason": "DivergedError: loss is nan",
                         "created": "2026-12-02T00:00:00+00:00", "model": {"name": "lenet5"},
                         "recipe": {"name": None}, "config": {"seed": 0}})
    assert isinstance(rec, FailedRecord) and not isinstance(rec, RunRecord)
    assert rec.encode()["reason"] == "DivergedError: loss is nan"


def test_table_specs_are_typed_and_typos_fail_when_the_suite_loads():
    specs = parse_tables({"headline": {"kind": "arena", "seeds": 3},
                          "target": {"kind": "target", "recipe": "r", "accuracy": 0.7, "minutes": 20, "seeds": 3},
                          "sweep": {"kind": "sweep", "model": "m", "rows": "optimizer", "cols": "lr"}})
    assert specs["headline"] == ArenaTable(seeds=3)
    assert isinstance(specs["target"], TargetTable) and isinstance(specs["sweep"], SweepTable)
    with pytest.raises(FerBenchError, match="unknown key 'minuts'.*did you mean 'minutes'"):
        parse_tables({"t": {"kind": "target", "recipe": "r", "accuracy": 0.7, "minuts": 20, "seeds": 3}})
    with pytest.raises(FerBenchError, match="needs cols"):
        parse_tables({"s": {"kind": "sweep", "model": "m", "rows": "lr"}})
    with pytest.raises(FerBenchError, match="kind = 'sweeep'; a table's kind is one of arena, target"):
        parse_tables({"s": {"kind": "sweeep", "model": "m", "rows": "lr", "cols": "lr"}})
    with pytest.raises(FerBenchError, match="fraction"):
        parse_tables({"t": {"kind": "target", "recipe": "r", "accuracy": 70, "minutes": 20, "seeds": 3}})


def test_every_shipped_suite_parses():
    from fer_bench.runner.suite import load_suite
    for path in sorted((RESULTS.parent / "benchmarks").glob("*.yaml")):
        load_suite(path)
