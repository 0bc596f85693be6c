"""Using what the suite trains: `eval` on any face set, `predict` on photos and videos, `export` to ONNX."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer_bench.cli import main
from fer_bench.core.errors import FerBenchError
from fer_bench.core.runinfo import local_path
from fer_bench.data.fer2013 import CLASSES
from fer_bench.use.evaluate import score
from fer_bench.use.faceset import canonical_label, read_face_set

from .conftest import SHARED_NATURAL, copy_natural_photos, tiny_images, write_csv


def write_built_natural(root: Path, seed: int = 1) -> Path:
    """A built natural set as `natural build` leaves it: OUT/<class>/*.png (48x48) + manifest.csv."""
    images, labels, _ = tiny_images(2, seed=seed)
    for k, (img, lab) in enumerate(zip(images[:42], labels[:42])):
        (root / CLASSES[lab]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / CLASSES[lab] / f"p{k}.png")
    (root / "manifest.csv").write_text("source,class,status\n")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """One tiny lenet5 run with a natural set: its record, model folder, data and natural set."""
    root = tmp_path_factory.mktemp("use")
    data = write_csv(root / "fer2013.csv", *tiny_images(6))
    natural = write_built_natural(root / "natural")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FER_BENCH_CACHE", str(root / "cache"))
        assert main(["train", "--model", "lenet5", "--data", str(data), "--epochs", "8", "--recipe", "arena", "--out",
                     str(root / "r.json"), "--workdir", str(root / "w"), "--no-progress",
                     "--natural", str(natural)]) == 0
    rec = json.loads((root / "r.json").read_text())
    return {"record": rec, "model": local_path(rec["model_file"]).parent, "data": data, "natural": natural,
            "root": root}


# -- eval ----------------------------------------------------------------------------------------

def test_eval_on_the_natural_set_reproduces_the_record_exactly(trained, tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["eval", str(trained["model"]), "--on", str(trained["natural"]), "--out", str(out)]) == 0
    ev, nat = json.loads(out.read_text()), trained["record"]["metrics"]["natural"]
    assert ev["metrics"]["n"] == nat["n"] == 42
    assert ev["metrics"]["confusion"] == nat["confusion"]
    assert ev["metrics"]["accuracy"] == pytest.approx(nat["accuracy"], abs=1e-7)   # the record: torchmetrics float32
    assert ev["metrics"]["macro_f1"] == pytest.approx(nat["macro_f1"], abs=1e-6)
    assert "accuracy" in capsys.readouterr().out


def test_eval_on_privatetest_reproduces_the_record_test_accuracy(trained, tmp_path):
    out = tmp_path / "e.json"
    assert main(["eval", str(trained["root"] / "r.json"), "--on", str(trained["data"]), "--split", "test",
                 "--out", str(out)]) == 0
    ev, test = json.loads(out.read_text()), trained["record"]["metrics"]["test"]
    assert ev["metrics"]["confusion"] == test["confusion"]
    assert ev["set"]["name"] == "fer2013-test" and ev["metrics"]["n"] == 42


def test_scores_match_a_hand_computation_on_a_set_without_neutral():
    classes = CLASSES
    labels = ["happy", "happy", "sad", "angry"]
    preds = ["happy", "neutral", "sad", "sad"]
    probs = torch.zeros(4, 7)
    probs[torch.arange(4), torch.tensor([classes.index(p) for p in preds])] = 1
    m = score(probs, labels, classes)
    assert m["accuracy"] == 0.5
    assert m["majority_baseline"] == {"class": "happy", "accuracy": 0.5}
    assert m["macro_f1_over"] == ["angry", "happy", "sad"]                 # neutral absent: not averaged
    assert m["per_class"]["happy"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m["per_class"]["sad"]["precision"] == 0.5 and m["per_class"]["angry"]["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx(4 / 9)
    assert m["confusion"][classes.index("happy")][classes.index("neutral")] == 1   # an absent class predicted


def test_labels_in_their_usual_spellings():
    assert canonical_label("Anger") == "angry" and canonical_label("happiness") == "happy"
    assert canonical_label("surprised") == "surprise" and canonical_label("neutrality") == "neutral"
    assert canonical_label("contempt") == "contempt"
    assert canonical_label("AN") == "angry" and canonical_label("SU") == "surprise"     # JAFFE codes
    assert canonical_label("s") is None and canonical_label("xyz") is None             # ambiguous, unknown


def _face_crops(root: Path, names: dict[str, int], size: int = 64) -> Path:
    rng = np.random.default_rng(0)
    for folder, n in names.items():
        (root / folder).mkdir(parents=True)
        for k in range(n):
            Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root / folder / f"{k}.png")
    return root


def test_face_crop_sets_in_folders_labels_csv_and_file_names(tmp_path, trained, capsys):
    # CK+-like: synonyms, contempt, no neutral; crops larger than 48 px.
    ck = _face_crops(tmp_path / "ck", {"anger": 2, "happiness": 3, "surprised": 1, "contempt": 2})
    fs = read_face_set(ck, faces=True)
    assert fs.images.shape == (8, 48, 48) and fs.images.dtype == torch.uint8
    assert sorted(set(fs.labels)) == ["angry", "contempt", "happy", "surprise"]
    out = tmp_path / "ck.json"
    assert main(["eval", str(trained["model"]), "--on", str(ck), "--faces", "--out", str(out)]) == 0
    ev = json.loads(out.read_text())
    assert ev["set"]["scored"] == 6 and ev["set"]["skipped"] == {"class 'contempt' is not one the model predicts": 2}
    assert ev["metrics"]["macro_f1_over"] == ["angry", "happy", "surprise"]
    assert ev["metrics"]["majority_baseline"]["accuracy"] == 0.5

    # labels.csv with a row of an unknown class
    lab = _face_crops(tmp_path / "lab", {"imgs": 3})
    (lab / "labels.csv").write_text("file,emotion\nimgs/0.png,sad\nimgs/1.png,3\nimgs/2.png,bored\n")
    fs = read_face_set(lab, faces=True)
    assert fs.labels == ["sad", "happy"] and fs.skipped == {"unknown class 'bored'": 1}

    # JAFFE-like: the class is in the file name
    jaffe = tmp_path / "jaffe"
    jaffe.mkdir()
    rng = np.random.default_rng(1)
    for name in ("KA.AN1.39.tiff", "KA.HA2.30.tiff", "KM.SU1.14.tiff", "readme.tiff"):
        Image.fromarray(rng.integers(0, 256, (256, 256), dtype=np.uint8)).save(jaffe / name)
    fs = read_face_set(jaffe, faces=True, label_from_name=r"\.([A-Z]{2})\d")
    assert fs.labels == ["angry", "happy", "surprise"] and sum(fs.skipped.values()) == 1


def test_photos_are_cropped_exactly_as_natural_build_crops_them(tmp_path):
    from fer_bench.data.natural import build_natural, load_natural
    src = copy_natural_photos(tmp_path / "src")
    rows = build_natural(src, tmp_path / "built")
    images, _, ids = load_natural(tmp_path / "built")
    fs = read_face_set(src)
    assert fs.photos == len(rows) and len(fs.labels) == sum(r["status"] == "ok" for r in rows)
    assert sum(fs.skipped.values()) == len(rows) - len(fs.labels)
    built = dict(zip(ids, images))
    for img, source in zip(fs.images, fs.ids):                 # the same crop, pixel for pixel
        assert torch.equal(img, built[str(Path(source).with_suffix(".png"))])


@pytest.mark.parametrize("args, needle", [
    (["eval", "NOPE", "--on", "x"], "NOPE: no such model"),
    (["eval", "{model}", "--on", "{tmp}/missing"], "missing: no such face set"),
    (["eval", "{model}", "--on", "{tmp}", "--label-from-name", "(["], "not a regular expression"),
    (["eval", "{model}", "--on", "{tmp}", "--label-from-name", "AN"], "needs one group"),
    (["eval", "{model}", "--on", "{tmp}", "--split", "test"], "only a FER-2013-format CSV has splits"),
    (["eval", "{tmp}/r.json", "--on", "{tmp}"], "r.json: not a run record with a kept model"),
])
def test_eval_bad_input_is_one_line(trained, tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)          # the default --results folder is ./results: not the repository's
    (tmp_path / "r.json").write_text("{}")
    argv = [a.format(model=trained["model"], tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) <= 2 and "Traceback" not in err   # [eval] progress + error


def test_a_damaged_weights_file_is_one_line(trained, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "m"
    shutil.copytree(trained["model"], bad)
    (bad / "model.safetensors").write_bytes(b"\0" * 100)
    assert main(["eval", str(bad), "--on", str(trained["natural"])]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors: cannot read the weights" in err and "Traceback" not in err


# -- predict -------------------------------------------------------------------------------------

@pytest.fixture
def photos(tmp_path) -> Path:
    if not SHARED_NATURAL.is_dir():
        pytest.skip("../shared/data/natural not found")
    src = tmp_path / "photos"
    src.mkdir()
    for cls in ("happy", "sad"):
        f = sorted((SHARED_NATURAL / cls).iterdir())[0]
        shutil.copy(f, src / f.name)
    Image.fromarray(np.full((200, 200), 128, np.uint8)).save(src / "blank.png")    # no face in it
    (src / "broken.jpg").write_bytes(b"not a jpeg")
    return src


def test_predict_prints_every_face_and_goes_on_after_a_broken_file(trained, photos, tmp_path, capsys):
    assert main(["predict", str(trained["model"]), str(photos), "--json", "--annotate", str(tmp_path / "ann")]) == 1
    cap = capsys.readouterr()
    lines = [json.loads(line) for line in cap.out.splitlines()]
    assert len(lines) == 3                                           # broken.jpg is not among them
    blank = next(r for r in lines if r["source"].endswith("blank.png"))
    assert blank["faces"] == [] and blank["note"] == "no face found"
    faces = [f for r in lines for f in r["faces"]]
    assert len(faces) == 2
    for f in faces:
        assert f["class"] in CLASSES and f["class"] == f["top"][0]["class"] and len(f["top"]) == 3
        assert f["top"][0]["p"] >= f["top"][1]["p"] >= f["top"][2]["p"] and f["box"]["w"] > 100
    assert "broken.jpg" in cap.err and "1 of 4 files could not be read" in cap.err and "Traceback" not in cap.err
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == sorted(
        Path(r["source"]).stem + "_" + Path(r["source"]).suffix[1:].lower() + ".png" for r in lines if r["faces"])


def test_predict_runs_in_the_precision_fastest_at_batch_1(trained, photos, monkeypatch):
    """The kept model's card names the precision whose batch-1 latency the run measured lower; predict
    (single faces) uses it, while eval keeps the record's own precision to reproduce its numbers."""
    from fer_bench.use import predict as predict_module
    card = json.loads((trained["model"] / "card.json").read_text())
    by_precision = trained["record"]["timing"]["latency_ms_batch1_by_precision"]
    assert card["batch1_precision"] == min(by_precision, key=by_precision.get)
    used = []
    real = predict_module.predict_probs
    monkeypatch.setattr(predict_module, "predict_probs", lambda tm, x, precision=None: used.append(precision)
                        or real(tm, x, precision))
    main(["predict", str(trained["model"]), str(photos)])
    assert used and set(used) == {card["batch1_precision"]}


def test_predict_samples_video_frames(trained, photos, tmp_path, capsys):
    import cv2
    frame = cv2.imread(str(next(p for p in sorted(photos.iterdir()) if p.suffix == ".jpg")))
    video = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (frame.shape[1], frame.shape[0]))
    for _ in range(25):
        w.write(frame)
    w.release()
    assert main(["predict", str(trained["model"]), str(video), "--every", "10"]) == 0
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")] == [
        f"{video} frame {n}" for n in (0, 10, 20)]


def test_predict_bad_input(trained, tmp_path, capsys):
    assert main(["predict", str(trained["model"]), str(tmp_path / "nothing.jpg")]) == 2
    assert "nothing.jpg: no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:          # argparse's own one-line error (#47)
        main(["predict", str(trained["model"]), str(tmp_path), "--every", "0"])
    assert e.value.code == 2


# -- export --------------------------------------------------------------------------------------

def test_export_writes_onnx_that_matches_pytorch_and_says_how_to_feed_it(trained, tmp_path, capsys):
    import onnx
    import onnxruntime as ort

    from fer_bench.use.trained import load_trained, predict_probs
    out = tmp_path / "m.onnx"
    assert main(["export", str(trained["model"]), "--out", str(out), "--data", str(trained["data"])]) == 0
    assert "max |d softmax|" in capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["fer_bench.classes"]) == list(CLASSES) and "pixel / 255" in meta["fer_bench.input"]
    # Any batch size; probabilities equal PyTorch's.
    tm = load_trained(trained["model"])
    images = torch.randint(0, 256, (5, 48, 48), dtype=torch.uint8)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    logits = session.run(None, {"image": images.unsqueeze(1).float().div(255).numpy()})[0]
    assert torch.allclose(torch.from_numpy(logits).softmax(1), predict_probs(tm, images, "32-true"), atol=1e-5)


def test_export_refuses_when_parity_fails_and_writes_nothing(trained, tmp_path, capsys, monkeypatch):
    import fer_bench.use.export as export
    monkeypatch.setattr(export, "PARITY_TOLERANCE", -1.0)       # no real export can pass this
    out = tmp_path / "m.onnx"
    assert main(["export", str(trained["model"]), "--out", str(out), "--data", str(trained["data"])]) == 2
    assert "not written: ONNX Runtime differs" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []


# -- a suite's external sets ---------------------------------------------------------------------

def test_a_suites_external_sets_become_cross_dataset_columns(tmp_path, tiny_csv):
    from fer_bench.report import write_leaderboard
    from fer_bench.runner.run import run_suite
    from fer_bench.runner.suite import load_suite
    crops = _face_crops(tmp_path / "crops", {"anger": 3, "happiness": 4, "sadness": 2})
    suite_file = tmp_path / "tiny.yaml"
    suite_file.write_text(f"""
name: tiny
seeds: [0, 1]
defaults: {{epochs: 1}}
cells:
  - model: lenet5
external:
  - {{name: crops, path: {crops}, faces: true}}
  - {{name: elsewhere, path: {tmp_path / 'not-here'}}}
""")
    suite = load_suite(suite_file)
    run_suite(suite, data=str(tiny_csv), results=str(tmp_path / "res"), use_wandb=False, progress=False)
    evals = sorted((tmp_path / "res" / "tiny" / "eval").glob("*.json"))
    assert [p.name for p in evals] == [f"lenet5__majeed_sgd__epochs=1__s{s}__crops.json" for s in (0, 1)]
    accs = [json.loads(p.read_text())["metrics"]["accuracy"] for p in evals]
    board = write_leaderboard(tmp_path / "res" / "tiny", "tiny").read_text()
    section = board.split("## Other face sets")[1]
    assert "9 faces scored of 9 images" in section and "majority baseline 44.44% (happy)" in section
    mean_acc = 100 * sum(accs) / 2
    assert f"| lenet5 | majeed_sgd | {mean_acc:.2f} ± " in section and "| 2 |" in section


@pytest.mark.parametrize("external, needle", [
    ("{name: a}", "needs a name and a path"),
    ("{name: a, path: x, face: true}", "unknown key 'face' (did you mean 'faces'?)"),
    ("{name: '../a', path: x}", "must be a plain name"),
    ("{name: a, path: x, split: dev}", "split 'dev' must be train, val or test"),
])
def test_bad_external_entries_name_the_key(tmp_path, external, needle):
    from fer_bench.core.errors import FerBenchError
    from fer_bench.runner.suite import load_suite
    f = tmp_path / "s.yaml"
    f.write_text(f"cells:\n  - model: lenet5\nexternal:\n  - {external}\n")
    with pytest.raises(FerBenchError, match=re.escape(needle)):
        load_suite(f)


def test_annotate_never_overwrites_an_input_nor_merges_two_annotations(trained, tmp_path, capsys):
    """#47: --annotate into the photos' own folder replaced me.png by the annotation of me.jpg; two inputs
    named face.jpg in different folders gave one face.png."""
    if not SHARED_NATURAL.is_dir():
        pytest.skip("../shared/data/natural not found")
    src = tmp_path / "photos"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    happy = sorted((SHARED_NATURAL / "happy").iterdir())[0]
    shutil.copy(happy, src / "me.jpg")
    Image.open(happy).save(src / "me.png")
    shutil.copy(happy, src / "a" / "face.jpg")
    shutil.copy(sorted((SHARED_NATURAL / "sad").iterdir())[0], src / "b" / "face.jpg")
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    assert main(["predict", str(trained["model"]), str(src), "--annotate", str(src)]) == 0
    assert all(p.read_bytes() == b for p, b in before.items())               # every input untouched
    made = sorted(str(p.relative_to(src)) for p in src.rglob("*_*.png"))
    assert made == ["a/face_jpg.png", "b/face_jpg.png", "me_jpg.png", "me_png.png"]
    # The same run again would overwrite those four: refused in one line, then allowed with --force.
    capsys.readouterr()
    assert main(["predict", str(trained["model"]), str(src / "me.jpg"), "--annotate", str(src)]) == 2
    err = capsys.readouterr().err
    assert "me_jpg.png exists" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert main(["predict", str(trained["model"]), str(src / "me.jpg"), "--annotate", str(src), "--force"]) == 0
    # Two files given by path with one name: refused before anything is written.
    out = tmp_path / "ann"
    assert main(["predict", str(trained["model"]), str(src / "a" / "face.jpg"), str(src / "b" / "face.jpg"),
                 "--annotate", str(out)]) == 2
    assert "would both be annotated" in capsys.readouterr().err and not out.exists()


def test_export_never_replaces_a_file_without_force_nor_the_model_s_own(trained, tmp_path, capsys):
    """#47: export --out F replaced any file (the kept model's model.safetensors included); --out DIR ran the
    whole export and then failed."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    weights = trained["model"] / "model.safetensors"
    before = weights.read_bytes()
    for out, says in ((notes, "exists; pass --force"), (weights, "never replaced"), (tmp_path, "is a folder")):
        assert main(["export", str(trained["model"]), "--out", str(out), "--data", str(trained["data"])]) == 2
        assert says in capsys.readouterr().err
    assert notes.read_text() == "mine" and weights.read_bytes() == before
    assert main(["export", str(trained["model"]), "--out", str(weights), "--force",
                 "--data", str(trained["data"])]) == 2                       # --force never covers the model


def test_a_shipped_model_is_used_by_name_and_reproduces_its_kept_model(tmp_path, monkeypatch, capsys):
    """Shipping stores the weights in float16 under a name; `eval <name>` then reproduces the card's accuracy
    within 0.1 point, `models --trained` lists it first, and nothing is replaced or half-written."""
    from safetensors.torch import load_file

    from fer_bench.use import shipped
    from tests.test_reliability import kept_lenet
    data = write_csv(tmp_path / "fer2013.csv", *tiny_images(6))
    kept = kept_lenet(tmp_path / "res" / "kept")
    assert main(["eval", str(kept), "--on", str(data), "--split", "test", "--out", str(tmp_path / "k.json")]) == 0
    card = json.loads((kept / "card.json").read_text())
    card["test"]["accuracy"] = json.loads((tmp_path / "k.json").read_text())["metrics"]["accuracy"]
    (kept / "card.json").write_text(json.dumps(card))     # the kept model's own score, as a run writes it
    monkeypatch.setenv("FER_BENCH_SHIPPED", str(tmp_path / "shipped"))
    target = shipped.ship(kept, "best", data)
    state = load_file(str(target / "model.safetensors"))
    assert all(t.dtype == torch.float16 for t in state.values() if t.is_floating_point())
    assert (target / "model.safetensors").stat().st_size < 0.6 * (kept / "model.safetensors").stat().st_size
    assert main(["eval", "best", "--on", str(data), "--split", "test", "--out", str(tmp_path / "s.json")]) == 0
    assert abs(json.loads((tmp_path / "s.json").read_text())["metrics"]["accuracy"] - card["test"]["accuracy"]) <= 0.001
    capsys.readouterr()
    assert main(["models", "--trained", str(tmp_path / "res")]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].endswith("best (shipped)") and listed[2].endswith(str(kept))
    before = (target / "model.safetensors").read_bytes()
    with pytest.raises(FerBenchError, match="--force"):
        shipped.ship(kept, "best", data)
    assert (target / "model.safetensors").read_bytes() == before
    monkeypatch.setattr(shipped, "MAX_CHANGED", -1.0)      # any change, even none, is now too much
    with pytest.raises(FerBenchError, match="not shipped"):
        shipped.ship(kept, "other", data)
    assert sorted(p.name for p in (tmp_path / "shipped").iterdir()) == ["best"]
