import torch

from fer_bench.data import fer2013 as readers
from fer_bench.data.load import LoadOptions, cache_dir, load_dataset


def test_second_load_comes_from_the_cache(tiny_csv, monkeypatch):
    first = load_dataset(tiny_csv)
    assert len(list(cache_dir().glob(f"{first.info['cache_key']}.pt"))) == 1

    def boom(*a, **k):
        raise AssertionError("decoded again instead of reading the cache")
    monkeypatch.setattr("fer_bench.data.load.read_csv", boom)
    second = load_dataset(tiny_csv)
    for a in ("images", "labels", "splits"):
        assert torch.equal(getattr(first, a), getattr(second, a))
    assert second.ids == first.ids and second.info == first.info


def test_cache_key_changes_with_content_and_options(tiny_csv):
    a = load_dataset(tiny_csv).info["cache_key"]
    b = load_dataset(tiny_csv, LoadOptions(drop_blank=True)).info["cache_key"]
    text = tiny_csv.read_text().replace("\n0,", "\n1,", 1)
    tiny_csv.write_text(text)
    c = load_dataset(tiny_csv).info["cache_key"]
    assert len({a, b, c}) == 3


def test_damaged_cache_is_rebuilt(tiny_csv):
    key = load_dataset(tiny_csv).info["cache_key"]
    path = cache_dir() / f"{key}.pt"
    path.write_bytes(path.read_bytes()[:100])
    again = load_dataset(tiny_csv)
    assert again.images.shape[1:] == (48, 48)
    assert readers.read_csv(tiny_csv).images.equal(again.images)
