from pathlib import Path

import numpy as np
import pytest
import torch

from fer_bench.data.fer2013 import CLASSES, TEST, TRAIN, VAL, read_csv, resolve_source
from fer_bench.data.ferplus import ferplus_labels
from fer_bench.data.folders import read_folder
from fer_bench.data.load import LoadOptions, load_dataset
from tests.conftest import tiny_images, write_csv, write_folder


def test_csv_reads_pixels_labels_and_usage(tmp_path):
    images, labels, usages = tiny_images()
    d = read_csv(write_csv(tmp_path / "f.csv.gz", images, labels, usages, gz=True))
    assert d.images.dtype == torch.uint8 and d.images.shape == (len(labels), 48, 48)
    assert np.array_equal(d.images.numpy(), images)
    assert d.labels.tolist() == labels.tolist()
    assert d.splits.tolist() == [{"Training": TRAIN, "PublicTest": VAL, "PrivateTest": TEST}[u] for u in usages]


def test_folder_and_csv_give_the_same_dataset(tmp_path):
    images, labels, usages = tiny_images()
    c = read_csv(write_csv(tmp_path / "f.csv", images, labels, usages))
    f = read_folder(write_folder(tmp_path / "img", images, labels, usages))
    assert f.counts() == c.counts()
    assert "prefixes" in f.info["split_method"]
    # Same multiset of (split, label, image): sort both by their bytes.
    def key(d):
        rows = [(int(s), int(y), d.images[i].numpy().tobytes()) for i, (s, y) in enumerate(zip(d.splits, d.labels))]
        return sorted(rows)
    assert key(c) == key(f)


def test_folder_without_prefixes_splits_val_off_train_stratified_and_seeded(tmp_path):
    images, labels, usages = tiny_images(n_per_class_split=10)
    root = write_folder(tmp_path / "img", images, labels, usages, prefixes=False)
    a = read_folder(root, val_fraction=0.2, seed=1)
    b = read_folder(root, val_fraction=0.2, seed=1)
    c = read_folder(root, val_fraction=0.2, seed=2)
    assert "stratified" in a.info["split_method"]
    counts = a.counts()
    assert counts["val"] == [2] * 7            # 20% of the 10 train-folder images per class
    assert counts["train"] == [8] * 7
    assert counts["test"] == [20] * 7          # PublicTest + PrivateTest files, both in test/
    assert torch.equal(a.splits, b.splits) and not torch.equal(a.splits, c.splits)


def test_ferplus_plurality_vote_drops_ties_unknown_and_not_a_face(tmp_path):
    images, labels, usages = tiny_images(n_per_class_split=1)
    data = read_csv(write_csv(tmp_path / "f.csv", images, labels, usages))
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    votes = {
        0: "0,8,1,0,0,0,0,1,0,0",    # happiness -> 3
        1: "5,5,0,0,0,0,0,0,0,0",    # tie -> dropped
        2: "0,0,0,0,0,0,0,0,9,1",    # unknown -> dropped
        3: "0,0,0,0,0,0,0,0,0,10",   # not a face -> dropped
        4: "1,0,0,0,0,0,0,9,0,0",    # contempt -> 7 or dropped
    }
    rows = [header]
    for i, u in enumerate(usages):
        rows.append(f"{u},fer{i:07d}.png," + votes.get(i, "10,0,0,0,0,0,0,0,0,0"))
    path = tmp_path / "fer2013new.csv"
    path.write_text("\n".join(rows) + "\n")
    lab, dropped = ferplus_labels(path, data, contempt=True, mode="plurality")
    assert lab[:5].tolist() == [3, -1, -1, -1, 7]
    assert lab[5:].eq(CLASSES.index("neutral")).all()
    assert dropped == {"tie": 1, "unknown": 1, "not_a_face": 1, "no_votes": 0, "contempt": 0}
    lab, dropped = ferplus_labels(path, data, contempt=False, mode="plurality")
    assert lab[4] == -1 and dropped["contempt"] == 1

    opts = LoadOptions(labels="ferplus", ferplus_path=str(path), ferplus_mode="plurality")
    d = load_dataset(tmp_path / "f.csv", opts)
    assert len(d) == len(labels) - 3 and d.classes[-1] == "contempt"


def test_ferplus_reference_protocol_removes_single_votes_then_needs_more_than_half(tmp_path):
    """FERPlus `majority` mode (Barsoum et al. 2016) on hand-made vote rows."""
    images, labels, usages = tiny_images(n_per_class_split=1)
    data = read_csv(write_csv(tmp_path / "f.csv", images, labels, usages))
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    #        neutral happiness surprise sadness anger disgust fear contempt unknown NF   reference / plurality
    votes = [
        "0,8,1,0,0,0,0,1,0,0",    # singles removed: happiness 8 of 8           happy    / happy
        "5,5,0,0,0,0,0,0,0,0",    # 5 of 10 is not more than half               dropped  / dropped (tie)
        "4,3,1,1,1,0,0,0,0,0",    # singles removed: 4 of 7 > 3.5                neutral  / neutral
        "3,2,2,2,1,0,0,0,0,0",    # singles removed: 3 of 9 <= 4.5               dropped  / neutral
        "2,1,1,1,1,1,1,1,1,0",    # singles removed: only neutral's 2 remain     neutral  / neutral
        "1,1,1,1,1,1,1,1,1,1",    # every vote single: nothing remains           dropped  / dropped (tie)
        "0,0,0,0,0,0,0,0,9,1",    # unknown                                      dropped  / dropped
        "0,0,0,0,0,0,0,0,1,9",    # not a face                                   dropped  / dropped
        "1,0,0,0,0,0,0,9,0,0",    # contempt                                     8th class
    ]
    rows = [header] + [f"{u},fer{i:07d}.png," + (votes[i] if i < len(votes) else "10,0,0,0,0,0,0,0,0,0")
                       for i, u in enumerate(usages)]
    path = tmp_path / "fer2013new.csv"
    path.write_text("\n".join(rows) + "\n")
    n, h, c = CLASSES.index("neutral"), CLASSES.index("happy"), 7
    lab, dropped = ferplus_labels(path, data)                               # the default is the reference
    assert lab[:9].tolist() == [h, -1, n, -1, n, -1, -1, -1, c]
    assert dropped == {"no_majority": 2, "unknown": 1, "not_a_face": 1, "no_votes": 1, "contempt": 0}
    lab, dropped = ferplus_labels(path, data, mode="plurality")
    assert lab[:9].tolist() == [h, -1, n, n, n, -1, -1, -1, c]
    assert dropped["tie"] == 2
    d = load_dataset(tmp_path / "f.csv", LoadOptions(labels="ferplus", ferplus_path=str(path)))
    assert d.info["ferplus_mode"] == "majority" and len(d) == len(labels) - 5
    assert sum(d.info["ferplus_kept"].values()) == len(d)


def test_vote_targets_are_the_vote_distribution_after_single_votes_go(tmp_path):
    """The FER+ cross-entropy mode's targets on hand-made vote rows, through load and the datamodule:
    single votes removed, unknown / not-a-face are no emotion, FER-2013 class order, rows sum to 1."""
    import numpy as np

    from fer_bench.core.errors import FerBenchError
    from fer_bench.data.datamodule import FERDataModule
    from fer_bench.data.ferplus import vote_distribution
    classes = CLASSES + ("contempt",)
    #                    neutral happiness surprise sadness anger disgust fear contempt unknown NF
    votes = np.array([[4, 3, 1, 1, 1, 0, 0, 0, 0, 0],
                      [0, 6, 0, 0, 0, 0, 0, 2, 2, 0],
                      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]])
    dist = vote_distribution(votes, classes)
    n, h, c = CLASSES.index("neutral"), CLASSES.index("happy"), 7
    expect = np.zeros((3, 8))
    expect[0, [n, h]] = [4 / 7, 3 / 7]
    expect[1, [h, c]] = [6 / 8, 2 / 8]          # unknown's 2 votes are not an emotion
    assert np.allclose(dist.numpy(), expect)    # row 3: no vote left, no target (and no label)
    assert vote_distribution(votes, CLASSES)[1].tolist() == [0, 0, 0, 1, 0, 0, 0]   # contempt dropped

    images, labels, usages = tiny_images(n_per_class_split=2)
    csv = write_csv(tmp_path / "f.csv", images, labels, usages)
    rng = np.random.default_rng(0)
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    rows = [header] + [f"{u},fer{i:07d}.png," + ",".join(map(str, rng.multinomial(10, [0.1] * 7 + [0.3, 0, 0])))
                       for i, u in enumerate(usages)]
    (tmp_path / "fer2013new.csv").write_text("\n".join(rows) + "\n")
    opts = LoadOptions(labels="ferplus")
    dm = FERDataModule(csv, load=opts, batch_size=4, vote_targets=True)
    dm.setup()
    y = dm.train_votes
    assert y.shape == (len(dm.parts["train"][1]), 8) and torch.allclose(y.sum(1), torch.ones(len(y)))
    assert torch.equal(y.argmax(1), dm.parts["train"][1])     # a kept image's majority is its top vote
    _, target = next(iter(dm.train_dataloader()))
    assert target.dtype == torch.float32 and target.shape == (4, 8)
    _, val_target = next(iter(dm.val_dataloader()))
    assert val_target.dtype == torch.int64                     # selection and test: majority labels
    with pytest.raises(FerBenchError, match="--labels ferplus"):
        FERDataModule(csv, vote_targets=True).setup()


def test_drop_blank_removes_uniform_images(tmp_path):
    images, labels, usages = tiny_images()
    images[0] = 0
    images[5] = 128
    path = write_csv(tmp_path / "f.csv", images, labels, usages)
    kept = load_dataset(path, LoadOptions(drop_blank=True))
    assert len(kept) == len(labels) - 2 and kept.info["blank_dropped"] == 2
    assert load_dataset(path).info["blank_images"] == 2


@pytest.mark.realdata
def test_both_real_loaders_agree_with_the_readme_counts(real_data):
    readme = {  # ../shared/data/fer2013/README.md, "Counts"
        "train": [3995, 436, 4097, 7215, 4830, 3171, 4965],
        "val": [467, 56, 496, 895, 653, 415, 607],
        "test": [491, 55, 528, 879, 594, 416, 626],
    }
    csv = load_dataset(real_data, LoadOptions(fmt="csv"))
    folder = load_dataset(real_data, LoadOptions(fmt="folder"))
    assert csv.counts() == readme
    assert folder.counts() == readme
    assert folder.info["format"] == "folder" and csv.info["format"] == "csv"


def test_kaggle_icml_face_data_csv_reads_like_fer2013_csv(tmp_path):
    """icml_face_data.csv: header 'emotion, Usage, pixels' (spaces after commas), the file torchvision reads."""
    images, labels, usages = tiny_images()
    ref = read_csv(write_csv(tmp_path / "fer2013.csv", images, labels, usages))
    lines = ["emotion, Usage, pixels"]
    lines += [f"{lab}, {u}, {' '.join(map(str, img.flatten()))}" for img, lab, u in zip(images, labels, usages)]
    icml = tmp_path / "kaggle" / "icml_face_data.csv"
    icml.parent.mkdir()
    icml.write_text("\n".join(lines) + "\n")
    for source in (icml, icml.parent):              # the file, or the folder holding it
        kind, path = resolve_source(source)
        d = read_csv(path)
        assert kind == "csv" and torch.equal(d.images, ref.images)
        assert torch.equal(d.labels, ref.labels) and torch.equal(d.splits, ref.splits)


def test_a_cached_load_names_the_source_as_its_caller_did(tiny_csv, tmp_path, monkeypatch):
    """Records carry data.info["source"]: the first loader's absolute path must not leak into the
    records of a later run that named the data relatively."""
    from fer_bench.data.load import LoadOptions, load_dataset
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    assert load_dataset(tiny_csv.resolve(), LoadOptions()).info["source"] == str(tiny_csv.resolve())
    monkeypatch.chdir(tiny_csv.parent)
    again = load_dataset(Path("fer2013.csv"), LoadOptions())
    assert again.info["source"] == "fer2013.csv" and len(list((tmp_path / "cache").glob("*.pt"))) == 1


def test_train_on_vote_targets_end_to_end_and_refuse_them_without_ferplus(tmp_path, capsys):
    import json

    import numpy as np

    from fer_bench.cli import main
    images, labels, usages = tiny_images(n_per_class_split=2)
    csv = write_csv(tmp_path / "fer2013.csv", images, labels, usages)
    rng = np.random.default_rng(1)
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    p = [0.2] * 4 + [0.1, 0.1] + [0] * 4
    rows = [header] + [f"{u},fer{i:07d}.png," + ",".join(map(str, rng.multinomial(10, p)))
                       for i, u in enumerate(usages)]
    (tmp_path / "fer2013new.csv").write_text("\n".join(rows) + "\n")
    common = ["train", "--model", "lenet5", "--recipe", "onecycle_vgg_light_votes", "--data", str(csv),
              "--epochs", "1", "--workdir", str(tmp_path / "w"), "--no-progress", "--natural", "none"]
    assert main([*common, "--labels", "ferplus", "--out", str(tmp_path / "r.json")]) == 0
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["recipe"]["targets"] == "votes" and rec["data"]["info"]["ferplus_mode"] == "majority"
    assert main([*common, "--out", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("fer-bench: error:") and "--labels ferplus" in err[-1]
