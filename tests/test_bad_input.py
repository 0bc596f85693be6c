"""Every user mistake: one line naming the file or row, exit code 2, no traceback,
nothing half-written (no cache file, no report)."""

import gzip

import pytest
from PIL import Image

from fer_bench.cli import main
from fer_bench.data.load import cache_dir
from tests.conftest import tiny_images, write_csv, write_folder


def run_report(capsys, data, tmp_path):
    out = tmp_path / "report"
    code = main(["data", "report", str(data), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    return code, err, out


def assert_clean_failure(code, err, out, *needles):
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("fer-bench: error: ") and "Traceback" not in err
    for n in needles:
        assert n in err, err
    assert not (out / "REPORT.md").exists()
    assert not list(cache_dir().glob("*.pt")) if cache_dir().exists() else True


@pytest.fixture
def csv_lines(tmp_path):
    images, labels, usages = tiny_images(n_per_class_split=1)
    path = write_csv(tmp_path / "fer2013.csv", images, labels, usages)
    return path, path.read_text().splitlines()


def test_csv_with_wrong_columns(capsys, tmp_path, csv_lines):
    path, lines = csv_lines
    path.write_text("\n".join(["label,pixels,Usage", *lines[1:]]))
    assert_clean_failure(*run_report(capsys, path, tmp_path), str(path), "expected columns emotion,pixels,Usage")


def test_row_with_wrong_pixel_count(capsys, tmp_path, csv_lines):
    path, lines = csv_lines
    e, px, u = lines[4].split(",")
    lines[4] = f"{e},{px.rsplit(' ', 1)[0]},{u}"   # data row 3, 2303 values
    path.write_text("\n".join(lines))
    assert_clean_failure(*run_report(capsys, path, tmp_path), "row 3", "2303 pixel values", "expected 2304")


def test_unknown_emotion_code(capsys, tmp_path, csv_lines):
    path, lines = csv_lines
    lines[2] = "9" + lines[2][1:]
    path.write_text("\n".join(lines))
    assert_clean_failure(*run_report(capsys, path, tmp_path), "row 1", "unknown emotion code '9'")


def test_pixel_value_out_of_range_and_garbage(capsys, tmp_path, csv_lines):
    path, lines = csv_lines
    e, px, u = lines[6].split(",")
    lines[6] = f"{e},300 {px.split(' ', 1)[1]},{u}"
    path.write_text("\n".join(lines))
    assert_clean_failure(*run_report(capsys, path, tmp_path), "row 5", "out of range")
    lines[6] = f"{e},x1 {px.split(' ', 1)[1]},{u}"
    path.write_text("\n".join(lines))
    assert_clean_failure(*run_report(capsys, path, tmp_path), "row 5", "'x'")


def test_truncated_gzip(capsys, tmp_path, csv_lines):
    path, lines = csv_lines
    gz = tmp_path / "fer2013.csv.gz"
    with gzip.open(gz, "wt") as f:
        f.write("\n".join(lines))
    gz.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    path.unlink()
    assert_clean_failure(*run_report(capsys, gz, tmp_path), str(gz), "cannot read")


def test_corrupt_and_truncated_images(capsys, tmp_path):
    root = write_folder(tmp_path / "images", *tiny_images(n_per_class_split=1))
    victim = sorted((root / "train" / "fear").iterdir())[0]
    victim.write_bytes(b"not an image at all")
    assert_clean_failure(*run_report(capsys, root, tmp_path), str(victim), "cannot decode")

    buf = (tmp_path / "ok.jpg")
    Image.new("L", (48, 48), 7).save(buf, quality=95)
    victim.write_bytes(buf.read_bytes()[:150])
    assert_clean_failure(*run_report(capsys, root, tmp_path), str(victim), "cannot decode")


def test_image_of_the_wrong_size(capsys, tmp_path):
    root = write_folder(tmp_path / "images", *tiny_images(n_per_class_split=1))
    victim = sorted((root / "test" / "happy").iterdir())[0]
    Image.new("L", (64, 64)).save(victim)
    assert_clean_failure(*run_report(capsys, root, tmp_path), str(victim), "64x64")


def test_unknown_class_folder(capsys, tmp_path):
    root = write_folder(tmp_path / "images", *tiny_images(n_per_class_split=1))
    (root / "train" / "sad").rename(root / "train" / "bored")
    assert_clean_failure(*run_report(capsys, root, tmp_path), "bored", "unknown class folder")


def test_empty_class_folder(capsys, tmp_path):
    root = write_folder(tmp_path / "images", *tiny_images(n_per_class_split=1))
    for f in (root / "train" / "disgust").iterdir():
        f.unlink()
    assert_clean_failure(*run_report(capsys, root, tmp_path), str(root / "train" / "disgust"), "no images")


def test_missing_path_says_how_to_get_fer2013(capsys, tmp_path):
    code, err, out = run_report(capsys, tmp_path / "nowhere", tmp_path)
    assert_clean_failure(code, err, out, str(tmp_path / "nowhere"), "Kaggle")


def test_train_on_missing_data_and_unknown_model(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # its record folder defaults to ./results/train
    assert main(["train", "--model", "majeed_cnn", "--data", str(tmp_path / "none")]) == 2
    assert "Kaggle" in capsys.readouterr().err
    assert main(["train", "--model", "nope", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and len(err.strip().splitlines()) == 1
