"""Issue #18: no command may destroy user data, race itself, or accept nonsense silently.
Each test reproduces one reported fault."""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_bench.cli import main
from fer_bench.core.locks import claim_cell
from fer_bench.training.keep import checkpoint_readable
from tests.conftest import tiny_images, write_csv

REPO = Path(__file__).resolve().parents[1]


def one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err
    return err


def last_line_error(capsys, *needles: str) -> str:
    """After progress lines ("[eval] reading ..."): the error is the one last line, without a traceback."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.splitlines()[-1].startswith("fer-bench: error:"), err
    for n in needles:
        assert n in err.splitlines()[-1], err
    return err


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def photo_src(tmp_path) -> Path:
    """A folder of 'photos' (noise: no face is needed to test what happens to the folders)."""
    src = tmp_path / "photos"
    rng = np.random.default_rng(0)
    for cls in ("happy", "sad"):
        (src / cls).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(src / cls / "a.jpg")
    (tmp_path / "sibling.txt").write_text("keep me")
    return src


# 1. natural build must never delete or overwrite what it did not make
@pytest.mark.parametrize("out", ["same", "parent", "inside", "cwd"])
def test_natural_build_refuses_an_output_folder_that_would_destroy_photos(photo_src, tmp_path, capsys,
                                                                          monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    target = {"same": photo_src, "parent": tmp_path, "inside": photo_src / "happy", "cwd": Path(".")}[out]
    before = snapshot(tmp_path)
    assert main(["natural", "build", str(photo_src), str(target)]) == 2
    one_line_error(capsys, "photos folder")
    assert snapshot(tmp_path) == before


def test_natural_build_replaces_only_a_previous_build(photo_src, tmp_path, capsys):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("precious")
    assert main(["natural", "build", str(photo_src), str(other)]) == 2
    one_line_error(capsys, "not a previous natural build")
    assert (other / "notes.txt").read_text() == "precious"
    built = tmp_path / "built"
    assert main(["natural", "build", str(photo_src), str(built)]) == 0
    assert main(["natural", "build", str(photo_src), str(built)]) == 0   # a previous build: replaced
    assert (built / "manifest.csv").is_file()


# 10. labels.csv may only name files inside SRC, and a short row is one line
@pytest.mark.parametrize("row", ["../sibling.txt,happy", "/etc/hostname,happy", "happy/a.jpg"])
def test_natural_labels_csv_paths_stay_inside_src(photo_src, tmp_path, capsys, row):
    (photo_src / "labels.csv").write_text(f"file,emotion\nhappy/a.jpg,happy\n{row}\n")
    assert main(["natural", "build", str(photo_src), str(tmp_path / "out")]) == 2
    one_line_error(capsys, "labels.csv", "row 3")
    assert not (tmp_path / "out").exists()


# 6. decompression bombs: refused from the header, never decoded
def bomb_png(path: Path, side: int = 20000) -> Path:
    """A valid PNG header claiming side x side pixels, with a tiny (truncated) body."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_a_decompression_bomb_in_a_dataset_is_one_line(tmp_path, capsys):
    from tests.conftest import write_folder
    root = write_folder(tmp_path / "images", *tiny_images(n_per_class_split=1))
    bomb = bomb_png(next((root / "train" / "happy").glob("*.png")))
    assert main(["data", "report", str(root), "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, bomb.name, "pixels")


def test_a_decompression_bomb_in_natural_build_is_skipped_with_its_reason(photo_src, tmp_path, capsys):
    bomb_png(photo_src / "sad" / "bomb.png")
    out = tmp_path / "out"
    assert main(["natural", "build", str(photo_src), str(out)]) == 0
    rows = (out / "manifest.csv").read_text()
    assert "bomb.png" in rows and "pixels" in rows


# 2. two bench processes on one results folder: every cell trained exactly once
def test_cell_claims_are_exclusive_and_stale_locks_are_taken_over(tmp_path):
    lock = tmp_path / "locks" / "cell.lock"
    assert claim_cell(lock) is None                      # ours now
    assert "pid" in claim_cell(lock)                     # a second claim (a live owner: us) is refused
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": "x"}))
    assert f"pid {os.getppid()}" in claim_cell(lock)     # a live owner keeps it
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    lock.write_text(json.dumps({"pid": int(dead), "host": socket.gethostname(), "started": "x"}))
    assert claim_cell(lock) is None                      # a dead owner's lock is stale: taken over
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": "x"}))
    assert "elsewhere" in claim_cell(lock)               # another host's lock cannot be checked: kept


def test_two_bench_processes_never_train_a_cell_twice(tmp_path):
    data = write_csv(tmp_path / "fer2013.csv", *tiny_images(n_per_class_split=6))
    suite = tmp_path / "race.yaml"
    suite.write_text("name: race\nseeds: [0, 1, 2]\ndefaults: {epochs: 2}\ncells:\n  - model: lenet5\n"
                     "    grid: {lr: [0.01, 0.02]}\n")
    # One thread each: two processes on a 2-core machine (beside whatever else runs) must not oversubscribe.
    env = {**os.environ, "FER_BENCH_DATA": str(data), "FER_BENCH_CACHE": str(tmp_path / "cache"),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "fer_bench.cli", "bench", str(suite), "--results", str(tmp_path / "res"),
           "--no-wandb", "--no-progress", "--natural", "none"]
    procs = [subprocess.Popen(cmd, env=env, cwd=REPO, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    logs = [p.communicate(timeout=600)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    trained = [line.rsplit(": ", 1)[1] for log in logs for line in log.splitlines() if "/6 done" in line]
    assert len(trained) == len(set(trained)), logs           # no cell twice
    assert all("/6 done" in log for log in logs), logs        # and both processes did train (they raced)
    runs = tmp_path / "res" / "race" / "runs"
    recs = [json.loads(p.read_text()) for p in runs.glob("*.json")]
    assert len(recs) == 6 and all(r["status"] == "finished" for r in recs)
    assert not list((tmp_path / "res" / "race" / "locks").glob("*.lock"))


# 8. a corrupt last.ckpt is named and the cell restarts from scratch
def test_corrupt_resume_checkpoint_is_detected(tmp_path):
    import torch
    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(3)}, "epoch": 3, "loops": {}}, good)
    assert checkpoint_readable(good)
    # #47: a valid zip that cannot resume (no Lightning state; a pickle that would run code) is unreadable too,
    # so the runner moves it aside instead of failing the cell on every retry.
    other = tmp_path / "other.ckpt"
    torch.save({"foo": 1}, other)
    assert not checkpoint_readable(other)
    planted = tmp_path / "planted.ckpt"
    torch.save({"state_dict": {}, "epoch": 0, "loops": {}, "x": Path("/tmp")}, planted)   # not weights-only
    assert not checkpoint_readable(planted)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    assert not checkpoint_readable(bad)
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    assert not checkpoint_readable(tmp_path / "text.ckpt")


# 3 and 9. suite typos, malformed values and names that are paths are one-line errors
@pytest.mark.parametrize("text, needle", [
    ("seed: [0, 1]\ncells: [{model: lenet5}]", "unknown key 'seed' (did you mean 'seeds'?)"),
    ("default: {epochs: 1}\ncells: [{model: lenet5}]", "did you mean 'defaults'?"),
    ("cells: [{model: lenet5, recipie: majeed_sgd}]", "did you mean 'recipe'?"),
    ("cells: [{model: lenet5, overides: {epochs: 1}}]", "did you mean 'overrides'?"),
    ("seeds: 0\ncells: [{model: lenet5}]", "seeds = 0 must be a non-empty list"),
    ("seeds: [a]\ncells: [{model: lenet5}]", "seeds = ['a']"),
    ("cells: [{model: lenet5, grid: {lr: 0.1}}]", "grid lr = 0.1 must be a non-empty list"),
    ("cells: [{model: lenet5, grid: {lr: [0.1, fast]}}]", "lr = 'fast' has the wrong type"),
    ("defaults: {epochs: 0}\ncells: [{model: lenet5}]", "epochs = 0 must be a positive number"),
    ("cells: [{model: lenet5, overrides: {lr: .nan}}]", "lr = nan must be a positive number"),
    ("name: ../../x\ncells: [{model: lenet5}]", "must be a plain name"),
    ("data: {labels: ferplu}\ncells: [{model: lenet5}]", "data: labels = 'ferplu' is not one of fer2013, ferplus"),
    ("cells: [{model: lenet5, overrides: {optimizer: adamm}}]", "optimizer 'adamm' is not one of sgd"),
    ("tables: {t: {kind: target, recipe: r, accuracy: 0.7, minuts: 20, seeds: 3}}\ncells: [{model: lenet5}]",
     "tables: t: unknown key 'minuts' (did you mean 'minutes'?)"),
])
def test_bad_suites_are_one_line_errors(tmp_path, capsys, text, needle):
    suite = tmp_path / "bad.yaml"
    suite.write_text(text + "\n")
    assert main(["bench", str(suite), "--results", str(tmp_path / "res"), "--no-wandb"]) == 2
    one_line_error(capsys, needle, "bad.yaml")
    assert not (tmp_path / "res").exists() and not (tmp_path.parent / "x").exists()


# 4. numbers are validated before any work
@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--epochs", "-1"), ("--batch-size", "0"),
                                         ("--lr", "-1"), ("--lr", "nan"), ("--limit-train", "-5")])
def test_train_rejects_nonsense_numbers(tmp_path, capsys, flag, value):
    data = write_csv(tmp_path / "fer2013.csv", *tiny_images(n_per_class_split=1))
    assert main(["train", "--model", "lenet5", "--data", str(data), flag, value,
                 "--out", str(tmp_path / "r.json"), "--no-progress"]) == 2
    one_line_error(capsys, flag.lstrip("-"), "positive")
    assert not (tmp_path / "r.json").exists()


# 7. FER+ votes: non-numeric, blank or binary content is one line naming the row
@pytest.mark.parametrize("vote, needle", [("x", "row 3, column happiness: vote 'x'"),
                                          ("", "row 3, column happiness"), ("2.5", "vote 2.5")])
def test_bad_ferplus_votes_name_the_row(tmp_path, vote, needle):
    from fer_bench.core.errors import FerBenchError
    from fer_bench.data.fer2013 import read_csv
    from fer_bench.data.ferplus import ferplus_labels
    images, labels, usages = tiny_images(n_per_class_split=1)
    data = read_csv(write_csv(tmp_path / "f.csv", images, labels, usages))
    rows = ["Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"]
    for i, u in enumerate(usages):
        rows.append(f"{u},f{i}.png,0,{vote if i == 1 else 10},0,0,0,0,0,0,0,0")
    path = tmp_path / "fer2013new.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(FerBenchError, match=needle.replace("(", r"\(")):
        ferplus_labels(path, data)
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(FerBenchError, match="fer2013new.csv"):
        ferplus_labels(path, data)


# 5. an unwritable results folder is found before any work
@pytest.mark.parametrize("command", ["bench", "leaderboard", "train"])
def test_unwritable_results_folder_is_one_line_before_any_work(tmp_path, capsys, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data = write_csv(tmp_path / "fer2013.csv", *tiny_images(n_per_class_split=1))
    suite = tmp_path / "ok.yaml"
    suite.write_text("cells: [{model: lenet5}]\n")
    argv = {"bench": ["bench", str(suite), "--results", str(blocker / "res"), "--data", str(data), "--no-wandb"],
            "leaderboard": ["leaderboard", str(suite), "--results", str(blocker / "res")],
            "train": ["train", "--model", "lenet5", "--data", str(data), "--out", str(blocker / "r.json")]}[command]
    assert main(argv) == 2
    one_line_error(capsys, "not writable", "a-file")


# 11. a diverging `train` is one line and a failed record, like a suite's cell
@pytest.mark.realdata
def test_train_divergence_is_one_line_and_a_failed_record(real_data, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["train", "--model", "lenet5", "--data", str(real_data), "--lr", "1e8", "--epochs", "2",
                 "--limit-train", "300", "--limit-eval", "100", "--out", str(out), "--workdir", str(tmp_path / "w"),
                 "--no-progress"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("fer-bench")
           and "tensor cache" not in line and "images read in" not in line]   # a cold cache says it is built
    assert len(err) == 1 and "diverged" in err[0] and "Traceback" not in err[0]
    rec = json.loads(out.read_text())
    assert rec["status"] == "failed" and "diverged" in rec["reason"]
    # 12. a record can be shared: no absolute paths of this machine's environment or checkout
    assert sys.prefix not in out.read_text() and str(REPO) not in out.read_text()
    assert "<venv>" in rec["traceback"] or "<fer-bench>" in rec["traceback"]


def test_a_cell_with_a_corrupt_resume_checkpoint_starts_again_and_says_which_file(tmp_path, capsys):
    from fer_bench.core.overrides import Overrides
    from fer_bench.training.train import TrainConfig, train
    data = write_csv(tmp_path / "fer2013.csv", *tiny_images(n_per_class_split=2))
    last = tmp_path / "w" / "checkpoints" / "cell" / "last.ckpt"
    last.parent.mkdir(parents=True)
    last.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    rec = train(TrainConfig(model="lenet5", data=str(data),
                            overrides=Overrides(epochs=1), workdir=str(tmp_path / "w"), run_id="cell",
                            resume=True, progress=False, out=str(tmp_path / "r.json"), natural=None))
    assert rec.status == "finished" and rec.selection.resumed_from_epoch is None
    assert str(last) in capsys.readouterr().err and (last.parent / "last.ckpt.corrupt").is_file()
    # 12. paths in the record are portable: the data path under this checkout or home is not absolute
    assert not rec.data.path.startswith(str(REPO))


# Issue #47, round two ---------------------------------------------------------------------------

def test_an_empty_or_garbage_lock_is_taken_over_once_it_is_old(tmp_path, capsys):
    """A process killed between creating its lock and writing it left it empty: the cell was blocked forever."""
    lock = tmp_path / "locks" / "cell.lock"
    lock.parent.mkdir()
    for junk in ("", "garbage{", "[1, 2]"):
        lock.write_text(junk)
        assert claim_cell(lock) is not None                 # young: its writer may still be writing it
        old = lock.stat().st_mtime - 3600
        os.utime(lock, (old, old))
        assert claim_cell(lock) is None                     # old: taken over, with one line saying so
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        assert "taken over" in capsys.readouterr().err
        lock.unlink()


def test_a_bench_start_keeps_another_process_fresh_half_written_record(tmp_path):
    """A second bench on a shared results folder deleted a live process's runs/.*.tmp mid-write."""
    from fer_bench.runner.run import run_suite
    from fer_bench.runner.suite import load_suite
    data = write_csv(tmp_path / "fer2013.csv", *tiny_images(n_per_class_split=4))
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text("name: s\nseeds: [0]\ndefaults: {epochs: 1}\ncells:\n  - model: lenet5\n")
    runs = tmp_path / "results" / "s" / "runs"
    runs.mkdir(parents=True)
    fresh, old = runs / ".other.json.abc.tmp", runs / ".killed.json.def.tmp"
    fresh.write_text("{")
    old.write_text("{")
    t = old.stat().st_mtime - 2 * 86400
    os.utime(old, (t, t))
    run_suite(load_suite(suite_file), data=str(data), results=str(tmp_path / "results"), use_wandb=False,
              progress=False)
    assert fresh.exists() and not old.exists()


@pytest.mark.parametrize("flag", [["--precision", "bogus"], ["--devices", "0"]])
def test_bad_bench_flags_are_refused_before_any_cell_is_recorded(tmp_path, capsys, flag):
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text("name: s\nseeds: [0]\ncells:\n  - model: lenet5\n")
    with pytest.raises(SystemExit) as e:
        main(["bench", str(suite_file), "--results", str(tmp_path / "r"), *flag])
    assert e.value.code == 2 and not (tmp_path / "r").exists()
    assert flag[0] in capsys.readouterr().err


def test_eval_record_names_that_are_paths_are_refused_before_any_work(tmp_path, capsys):
    """#47: a run_id like ../../x in card.json, or --name ../../x, wrote the eval record outside its folder."""
    from fer_bench.use.evaluate import eval_record_path
    for run_id, name in (("../../../../tmp/x", "natural"), ("/tmp/x/y", "natural"), ("m", "../../x"), ("m", ".x")):
        with pytest.raises(Exception, match="is a path, not a name"):
            eval_record_path(tmp_path, {"model": {"run_id": run_id}, "set": {"name": name}})
    assert eval_record_path(tmp_path, {"model": {"run_id": "m__s0"}, "set": {"name": "my photos"}}).parent == \
        tmp_path / "eval"


# Issue #51: the CUDA path's rough edges, checked on a machine without a GPU ---------------------

def test_precision_auto_picks_bf16_on_a_bf16_gpu_and_16_mixed_on_an_older_one(monkeypatch):
    import torch

    from fer_bench.core.runinfo import resolve_precision
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "auto") == "bf16-mixed" and resolve_precision("auto", "gpu") == "bf16-mixed"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "gpu") == "16-mixed"
    assert resolve_precision("32-true", "gpu") == "32-true"


@pytest.mark.parametrize("command", [["train", "--model", "lenet5"], ["bench", "smoke"]])
def test_asking_for_a_gpu_that_is_not_there_is_one_line(command, capsys, tmp_path, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--accelerator", "gpu"]) == 2
    one_line_error(capsys, "--accelerator gpu: no CUDA GPU")


def test_a_lock_whose_heartbeat_stopped_is_taken_over_from_any_host(tmp_path, capsys):
    """#51: a SLURM task killed on another node left its cell 'in flight' until someone deleted the lock."""
    from fer_bench.core.locks import HEARTBEAT_LIMIT_SECONDS, heartbeat
    lock = tmp_path / "locks" / "cell.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": 4242, "host": "node-17", "started": "x"}))
    assert "node-17" in claim_cell(lock)                      # beating recently: respected
    old = lock.stat().st_mtime - HEARTBEAT_LIMIT_SECONDS - 60
    os.utime(lock, (old, old))
    heartbeat(lock)                                             # its owner beats again: still respected
    assert "node-17" in claim_cell(lock)
    os.utime(lock, (old, old))                                  # silent past the limit: taken over, said so
    assert claim_cell(lock) is None and json.loads(lock.read_text())["pid"] == os.getpid()
    assert "node-17 has not beaten" in capsys.readouterr().err


def test_a_strip_photo_makes_a_bounded_number_of_detector_tiles():
    """#47: a 112-byte 1x30000 PNG made one detector tile per pixel of length (82 s in predict)."""
    from fer_bench.data.faces import MAX_TILES, _tiles, detect_faces_blazeface
    assert detect_faces_blazeface(np.full((1, 30000), 128, np.uint8)) == []      # too thin to hold a face
    tiles = _tiles(40, 30000)
    assert len(tiles) <= MAX_TILES + 1 and tiles[-1][0] == 30000 - 40            # still covers the strip's end
    assert _tiles(350, 1000) == [(0, 0, 350), (175, 0, 350), (350, 0, 350), (525, 0, 350), (650, 0, 350)]


@pytest.mark.parametrize("argv, says", [
    (["train", "--model", "lenet5", "--seed", "-1"], "--seed"),
    (["train", "--model", "lenet5", "--seed", "5000000000"], "2**32"),
    (["predict", "m", "x.jpg", "--every", "0"], "--every"),
    (["predict", "m", "x.jpg", "--every", "-3"], "--every"),
])
def test_out_of_range_numbers_on_the_command_line_are_argparse_lines(argv, says, capsys):
    """#47 items 10-11: these were tracebacks or silently accepted."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and says in capsys.readouterr().err


@pytest.mark.parametrize("text, says", [
    ('observe_test: "no"\ncells: [{model: lenet5}]', "observe_test = 'no' must be true or false"),
    ("not_run: [{model: seelam_cnn, why: a}, {model: seelam_cnn, why: b}]\ncells: [{model: lenet5}]",
     "listed twice"),
])
def test_suite_flags_and_not_run_entries_are_checked(tmp_path, text, says):
    from fer_bench.core.errors import FerBenchError
    from fer_bench.runner.suite import load_suite
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(FerBenchError, match=says):
        load_suite(tmp_path / "s.yaml")


def test_one_malformed_card_does_not_hide_the_good_models(tmp_path, capsys):
    good = tmp_path / "a"
    good.mkdir()
    (good / "card.json").write_text(json.dumps({"test": {"accuracy": 0.5}, "val": {"accuracy": 0.4},
                                                "architecture": "lenet5", "recipe": "arena"}))
    bad = tmp_path / "b"
    bad.mkdir()
    (bad / "card.json").write_text(json.dumps({"test": {"accuracy": "abc"}, "architecture": "x"}))
    assert main(["models", "--trained", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    assert "50.00%" in cap.out and "lenet5" in cap.out and "not a model card, skipped" in cap.err


def test_a_gpu_run_s_hardware_label_names_the_gpus():
    """#51: each row's hardware label named only the CPU."""
    from fer_bench.core.runinfo import hardware_label
    hw = {"cpu": "AMD EPYC", "bf16_cpu": False, "cuda": ["NVIDIA H100 80GB HBM3"]}
    assert hardware_label(hw, 2) == "2x NVIDIA H100 80GB HBM3 (host AMD EPYC)"
    assert hardware_label(hw) == "AMD EPYC"                          # a CPU run on a GPU machine
    assert hardware_label({"cpu": "Xeon", "bf16_cpu": True, "cuda": []}, 1) == "Xeon + AVX512-BF16"


# Issue #47, items 10-11: tracebacks and accepted nonsense ---------------------------------------

def kept_lenet(folder: Path, **card_edits) -> Path:
    """A kept lenet5 as every run leaves it (model.safetensors + card.json), untrained, in seconds."""
    from safetensors.torch import save_file

    from fer_bench.data.fer2013 import CLASSES
    from fer_bench.models import create_model
    folder.mkdir(parents=True)
    save_file(create_model("lenet5", num_classes=7).state_dict(), str(folder / "model.safetensors"))
    card = {"architecture": "lenet5", "classes": list(CLASSES), "run_id": "lenet5__arena__s0", "recipe": "arena",
            "input": {"size": 48, "eval_protocol": "native"}, "precision": "32-true",
            "val": {"accuracy": 0.4}, "test": {"accuracy": 0.5}} | card_edits
    (folder / "card.json").write_text(json.dumps({k: v for k, v in card.items() if v is not None}))
    return folder


@pytest.mark.parametrize("edit,says", [({"input": "x"}, "key 'input' must be an object"),
                                       ({"classes": "angry"}, "key 'classes' must be a non-empty list"),
                                       ({"test": {"accuracy": "abc"}}, "key 'test.accuracy' must be a number"),
                                       ({"precision": "bogus"}, "key 'precision' must be one of")])
def test_a_hand_edited_card_is_one_line_naming_its_key(tmp_path, capsys, edit, says):
    data = write_csv(tmp_path / "fer.csv", *tiny_images(2))
    m = kept_lenet(tmp_path / "m", **edit)
    assert main(["eval", str(m), "--on", str(data), "--results", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "card.json", says)
    assert not (tmp_path / "r" / "eval").exists() or not any((tmp_path / "r" / "eval").iterdir())


def test_a_card_without_test_scores_evaluates_and_exports(tmp_path, capsys):
    """A card from outside a run (no `test` section) gave KeyError: 'test' in eval and export."""
    data = write_csv(tmp_path / "fer.csv", *tiny_images(2))
    m = kept_lenet(tmp_path / "m", test=None)
    assert main(["eval", str(m), "--on", str(data), "--out", str(tmp_path / "e.json")]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["model"]["record_test_accuracy"] is None
    assert main(["export", str(m), "--data", str(data), "--out", str(tmp_path / "m.onnx")]) == 0
    # 14 PrivateTest images were reported as if they were the usual 512: the line now says so
    assert "only 14 in the data: a weaker check than the usual 512" in capsys.readouterr().out


def test_weights_with_nan_are_refused_not_scored(tmp_path, capsys):
    """All-NaN weights gave '28.57%' and 'angry nan'."""
    import torch
    from safetensors.torch import load_file, save_file
    data = write_csv(tmp_path / "fer.csv", *tiny_images(2))
    m = kept_lenet(tmp_path / "m")
    state = {k: torch.full_like(v, float("nan")) for k, v in load_file(str(m / "model.safetensors")).items()}
    save_file(state, str(m / "model.safetensors"))
    assert main(["eval", str(m), "--on", str(data), "--results", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "model.safetensors", "NaN or infinite")


def test_eval_reads_a_csv_without_usage_and_says_when_a_split_is_empty(tmp_path, capsys):
    images, labels, usages = tiny_images(2)
    m = kept_lenet(tmp_path / "m")
    no_usage = tmp_path / "nousage.csv"
    no_usage.write_text("emotion,pixels\n" + "".join(
        f"{lab},{' '.join(map(str, img.ravel()))}\n" for img, lab in zip(images, labels)))
    assert main(["eval", str(m), "--on", str(no_usage), "--out", str(tmp_path / "e.json")]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["set"]["scored"] == len(labels)
    capsys.readouterr()
    assert main(["eval", str(m), "--on", str(no_usage), "--split", "test", "--out", str(tmp_path / "f.json")]) == 2
    last_line_error(capsys, "no Usage column")
    keep = [u != "PrivateTest" for u in usages]
    no_test = write_csv(tmp_path / "notest.csv", images[keep], labels[keep], [u for u in usages if u != "PrivateTest"])
    assert main(["eval", str(m), "--on", str(no_test), "--split", "test", "--out", str(tmp_path / "g.json")]) == 2
    last_line_error(capsys, "--split test", "no PrivateTest rows")    # was: "no face of a class the model predicts"


def test_a_superscript_digit_emotion_is_an_unknown_class(photo_src, tmp_path, capsys):
    """'²'.isdigit() is true and int('²') raises: labels.csv with emotion ² was a traceback."""
    (photo_src / "labels.csv").write_text("file,emotion\nhappy/a.jpg,²\nsad/a.jpg,sad\n")
    assert main(["natural", "build", str(photo_src), str(tmp_path / "out"), "--detector", "haar"]) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err
    rows = (tmp_path / "out" / "manifest.csv").read_text()
    assert "unknown class '²'" in rows


def test_natural_build_into_a_folder_that_cannot_take_files_is_one_line(photo_src, tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    assert main(["natural", "build", str(photo_src), str(tmp_path / "a_file" / "out")]) == 2
    one_line_error(capsys, "a file, not a folder")


def _corrupt(path: Path, edit) -> None:
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d))


RECORD_EDITS = {
    "schema '3'": (lambda d: d.update(schema="3"), "key 'schema' must be an integer"),
    "schema null": (lambda d: d.update(schema=None), "key 'schema' must be an integer"),
    "accuracy 'abc'": (lambda d: d["metrics"]["test"].update(accuracy="abc"), "key 'metrics.test'"),
    "accuracy null": (lambda d: d["metrics"]["val"].update(accuracy=None), "key 'metrics.val'"),
    "short predictions": (lambda d: d.update(test_predictions=d["test_predictions"][:5]), "as long as test_labels"),
    "bad base64": (lambda d: d.update(test_probs="!!not base64"), "key 'test_probs'"),
    "bad curves": (lambda d: d.update(curves=[{"val/acc": "x"}]), "key 'curves'"),
}


@pytest.mark.parametrize("case", RECORD_EDITS)
def test_a_record_with_wrong_value_types_is_one_line_naming_the_key(tmp_path, case):
    """Committed arena-tuned records, damaged as a hand edit would: leaderboard and dry-run gave tracebacks."""
    from fer_bench.core.errors import FerBenchError
    from fer_bench.core.record import load_records
    runs = tmp_path / "runs"
    shutil.copytree(REPO / "results" / "arena-tuned" / "runs", runs)
    edit, says = RECORD_EDITS[case]
    _corrupt(sorted(runs.glob("*.json"))[0], edit)
    with pytest.raises(FerBenchError, match=re.escape(says)):
        load_records(runs)


@pytest.mark.parametrize("edit,says", [(lambda d: d.update(value="abc"), "key 'value'"),
                                       (lambda d: d.update(params=None), "key 'params'"),
                                       (lambda d: d.update(curves="x"), "key 'curves'"),
                                       (lambda d: d.update(budget={}), "key 'budget'")])
def test_a_trial_record_with_wrong_value_types_is_one_line_naming_the_key(tmp_path, edit, says):
    from fer_bench.core.errors import FerBenchError
    from fer_bench.runner.tuning_space import read_trials
    trials = tmp_path / "trials"
    shutil.copytree(REPO / "results" / "arena-tuned" / "trials", trials)
    assert len(read_trials(trials, "lenet5")) == 8
    _corrupt(sorted(trials.glob("lenet5__*.json"))[0], edit)
    with pytest.raises(FerBenchError, match=re.escape(says)):
        read_trials(trials)


def test_leaderboard_and_dry_run_on_a_damaged_record_are_one_line(tmp_path, capsys):
    shutil.copytree(REPO / "results" / "arena-tuned", tmp_path / "arena-tuned",
                    ignore=shutil.ignore_patterns("plots", "*.sqlite3*", "checkpoints", "locks"))
    _corrupt(sorted((tmp_path / "arena-tuned" / "runs").glob("*.json"))[0], lambda d: d.update(schema=None))
    for argv in (["leaderboard", "arena-tuned"], ["bench", "arena-tuned", "--dry-run"]):
        assert main([*argv, "--results", str(tmp_path)]) == 2
        one_line_error(capsys, "key 'schema' must be an integer")


def test_dry_run_shows_dead_and_garbage_locks_as_stale_not_in_flight(tmp_path, capsys):
    from fer_bench.runner.cells import lock_path
    from fer_bench.runner.suite import load_suite
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text("name: s\nseeds: [0, 1, 2]\ncells:\n  - model: lenet5\n")
    locks = tmp_path / "r" / "s" / "locks"
    locks.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    owners = [{"pid": int(dead.stdout), "host": host}, "garbage{", {"pid": os.getpid(), "host": host}]
    suite = load_suite(suite_file)
    for cell, owner in zip(suite.cells, owners):
        lock = lock_path(suite, cell, tmp_path / "r")
        lock.write_text(owner if isinstance(owner, str) else json.dumps(owner))
        old = lock.stat().st_mtime - 600
        os.utime(lock, (old, old))
    assert main(["bench", str(suite_file), "--dry-run", "--results", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    status = [line[:10].strip() for line in out.splitlines() if "lenet5__" in line]
    assert status == ["stale lock", "stale lock", "in flight"], out
    assert "the next run takes the cell over" in out


def test_device_flag_runs_the_kept_model_where_asked_and_refuses_a_missing_gpu(tmp_path, capsys):
    """#51 item 1: eval / predict / export take --device; the eval record says where it ran."""
    import torch
    data = write_csv(tmp_path / "fer.csv", *tiny_images(2))
    m = kept_lenet(tmp_path / "m")
    assert main(["eval", str(m), "--on", str(data), "--results", str(tmp_path / "r"), "--device", "cpu"]) == 0
    rec = json.loads(next((tmp_path / "r" / "eval").glob("*.json")).read_text())
    assert rec["device"] == "cpu" and rec["precision"] == "32-true"
    if torch.cuda.is_available():
        return
    for cmd in (["eval", str(m), "--on", str(data)], ["predict", str(m), str(data)], ["export", str(m)]):
        capsys.readouterr()
        assert main([*cmd, "--device", "cuda"]) == 2
        last_line_error(capsys, "--device cuda: no CUDA GPU is visible on this machine")
    assert not (m / "model.onnx").exists()
