"""The natural-set builder on real photos, its determinism and its bad inputs."""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_bench.cli import main
from fer_bench.data.faces import detect_faces, face_detector
from fer_bench.data.natural import build_natural, crop_face, load_natural, read_gray

from .conftest import copy_natural_photos


@pytest.fixture
def photos(tmp_path) -> Path:
    """Two real photos per class (one LFW-style 350x350, small film stills where present)."""
    return copy_natural_photos(tmp_path / "src")


def manifest(out: Path) -> list[dict]:
    with (out / "manifest.csv").open() as f:
        return list(csv.DictReader(f))


def test_faces_are_found_and_cropped_to_48x48_uint8(photos):
    found = 0
    for f in sorted(photos.rglob("*.jpg")):
        gray = read_gray(f)
        boxes = detect_faces(gray)
        if boxes:
            found += 1
            x, y, w, h = boxes[0]
            assert w > 0.2 * min(gray.shape)          # a face, not a speck
            crop = crop_face(gray, boxes[0])
            assert crop.shape == (48, 48) and crop.dtype == np.uint8 and crop.std() > 10
    assert found >= 12  # of 14 real photos


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_both_detectors_find_whole_faces_and_keep_tightly_framed_ones(photos, detector):
    find = face_detector(detector)
    found = 0
    for f in sorted(photos.rglob("*.jpg")):
        gray = read_gray(f)
        boxes = find(gray)
        if not boxes:
            continue
        found += 1
        x, y, w, h = boxes[0]
        assert w > 0.2 * min(gray.shape)
        # The same face cut out tightly (it fills the picture): still one face, not a fragment.
        x0, y0 = max(x, 0), max(y, 0)
        tight = gray[y0:y0 + h, x0:x0 + w]
        if min(tight.shape) < 40:
            continue
        again = find(tight)
        assert len(again) == 1, f.name
        assert again[0][2] * again[0][3] > 0.5 * tight.size, f.name
    assert found >= 12  # of 14 real photos


def test_blazeface_finds_every_face_of_a_wide_group_photo(photos):
    import numpy as np

    canvas = np.full((420, 1100), 200, np.uint8)
    x = 20
    for cls, size in (("happy", 380), ("surprise", 300), ("angry", 240)):
        face = Image.fromarray(read_gray(sorted((photos / cls).iterdir())[0])).resize((size, size))
        canvas[420 - size - 20:400, x:x + size] = np.asarray(face)
        x += size + 40
    boxes = face_detector("blazeface")(canvas)
    assert len(boxes) == 3
    centres = sorted(b[0] + b[2] / 2 for b in boxes)
    assert centres[0] < 400 < centres[1] < 760 < centres[2]          # one box per face, none between


def test_blazeface_has_its_896_anchors_and_finds_no_face_in_noise():
    import numpy as np

    from fer_bench.core.blazeface import anchors, detect
    a = anchors()
    assert a.shape == (896, 2) and a.min() > 0 and a.max() < 1
    rng = np.random.default_rng(0)
    assert detect(rng.integers(0, 256, (240, 320), dtype=np.uint8)) == []
    assert detect(np.full((100, 100), 128, np.uint8)) == []


def test_build_accounts_for_every_photo_and_is_byte_identical(photos, tmp_path, capsys):
    assert main(["natural", "build", str(photos), str(tmp_path / "a")]) == 0
    assert "yield" in capsys.readouterr().out
    build_natural(photos, tmp_path / "b")
    rows = manifest(tmp_path / "a")
    assert sorted(r["source"] for r in rows) == sorted(str(p.relative_to(photos)) for p in photos.rglob("*.jpg"))
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) >= 12 and all(r["face_w"] and r["detector"] for r in ok)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    images, labels, ids = load_natural(tmp_path / "a")
    assert images.shape == (len(ok), 48, 48) and len(set(labels.tolist())) >= 6


def test_bad_photos_are_skipped_with_their_reason(photos, tmp_path):
    (photos / "happy" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    (photos / "bored").mkdir()
    shutil.copy(next((photos / "angry").iterdir()), photos / "bored" / "x.jpg")
    Image.new("L", (200, 200), 128).save(photos / "sad" / "blank.png")
    rows = {r["source"]: r for r in build_natural(photos, tmp_path / "out")}
    assert rows["happy/broken.jpg"]["status"] == "skipped" and "cannot identify" in rows["happy/broken.jpg"]["reason"]
    assert rows["bored/x.jpg"]["reason"] == "unknown class 'bored'"
    assert rows["sad/blank.png"]["reason"] == "no face found"
    assert not (tmp_path / "out" / "bored").exists()


def test_labels_csv_with_other_spellings(photos, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    lines = ["file,emotion"]
    for spelled, folder in (("happiness", "happy"), ("anger", "angry"), ("3", "happy")):
        f = sorted((photos / folder).iterdir())[0 if spelled != "3" else 1]
        shutil.copy(f, flat / f.name)
        lines.append(f"{f.name},{spelled}")
    (flat / "labels.csv").write_text("\n".join(lines) + "\n")
    rows = build_natural(flat, tmp_path / "out")
    assert [r["class"] for r in rows] == ["happy", "angry", "happy"]


def test_empty_or_missing_source_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["natural", "build", str(tmp_path / "empty"), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no photos found" in err and len(err.strip().splitlines()) == 1
    assert main(["natural", "build", str(tmp_path / "nope"), str(tmp_path / "o")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.realdata
def test_a_trained_model_gets_natural_numbers_in_its_record(photos, real_data, tmp_path):
    from fer_bench.core.overrides import Overrides
    from fer_bench.training.train import TrainConfig, train
    build_natural(photos, tmp_path / "nat")
    rec = train(TrainConfig(model="lenet5", data=str(real_data),
                            overrides=Overrides(epochs=1), limit_train=500, limit_eval=200,
                            progress=False, workdir=str(tmp_path), out=str(tmp_path / "r.json"),
                            natural=str(tmp_path / "nat")))
    nat = rec.metrics.natural
    assert nat.n == len(load_natural(tmp_path / "nat")[1])
    assert set(nat.per_class["happy"]) == {"precision", "recall", "f1", "support"}


def test_build_never_deletes_a_folder_that_merely_holds_a_manifest_csv(photos, tmp_path, capsys):
    """#47: OUT with a user's own manifest.csv (other columns), images/ and README.txt was deleted, rc 0."""
    out = tmp_path / "mine"
    (out / "images").mkdir(parents=True)
    (out / "images" / "x.jpg").write_bytes(b"user data")
    (out / "manifest.csv").write_text("id,url,license\n1,http://example.org/x.jpg,CC-BY\n")
    (out / "README.txt").write_text("my notes\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["natural", "build", str(photos), str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not a previous natural build" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # A real previous build is replaced; one with a stray user file in it is not.
    built = tmp_path / "built"
    assert main(["natural", "build", str(photos), str(built)]) == 0
    assert main(["natural", "build", str(photos), str(built)]) == 0
    (built / "notes.txt").write_text("mine")
    assert main(["natural", "build", str(photos), str(built)]) == 2
    assert (built / "notes.txt").read_text() == "mine"
