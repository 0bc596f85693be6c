import torch

from fer_bench.data.augment import AugmentConfig
from fer_bench.data.datamodule import EpochBatchSampler, FERDataModule
from fer_bench.data.fer2013 import CLASSES, stratified_subset


def test_oversampling_reaches_the_targets_and_keeps_every_image():
    labels = torch.tensor([0] * 50 + [1] * 5 + [2] * 20)
    s = EpochBatchSampler(labels, batch_size=16, shuffle=True, seed=0, targets={1: 30, 2: 10})
    idx = torch.tensor([i for b in s for i in b])
    assert len(idx) == 50 + 30 + 20 and len(s) == -(-100 // 16)
    assert torch.bincount(labels[idx]).tolist() == [50, 30, 20]   # class 2 is above its target: untouched
    assert set(idx.tolist()) == set(range(75))


def test_epoch_order_depends_only_on_seed_and_epoch():
    labels = torch.arange(100) % 7
    a, b = EpochBatchSampler(labels, 10, True, seed=3), EpochBatchSampler(labels, 10, True, seed=3)
    a.set_epoch(4)
    b.set_epoch(4)
    assert list(a) == list(b)
    b.set_epoch(5)
    assert list(a) != list(b)
    assert [i for x in EpochBatchSampler(labels, 10, False) for i in x] == list(range(100))


def test_stratified_subset_keeps_class_proportions():
    labels = torch.tensor([0] * 600 + [1] * 300 + [2] * 100)
    idx = stratified_subset(labels, 100, seed=0)
    assert torch.bincount(labels[idx]).tolist() == [60, 30, 10]
    assert len(set(idx.tolist())) == 100


def test_balanced_class_weights_and_device_batches(tiny_csv):
    dm = FERDataModule(tiny_csv, batch_size=8, augment=AugmentConfig(hflip=True, rotation=10),
                       channels_last=True)
    dm.setup()
    w = dm.class_weights("balanced")
    counts = dm.class_counts().double()
    assert torch.allclose(w.double(), counts.sum() / (len(CLASSES) * counts))
    assert dm.class_weights(None) is None
    images, labels = next(iter(dm.train_dataloader()))
    assert images.dtype == torch.uint8 and images.shape == (8, 48, 48)
    x, y = dm.on_after_batch_transfer((images, labels), 0)
    assert x.shape == (8, 1, 48, 48) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(x, images.unsqueeze(1).float() / 255)   # no trainer: no augmentation
    assert [len(dm.parts[s][1]) for s in ("train", "val", "test")] == [28, 28, 28]


def test_class_weights_count_the_oversampled_epoch(tiny_csv):
    # tiny_csv: 4 training images a class. Oversampling angry to 12 (of the full split's 28, so
    # scaled by 28/28) makes the epoch 12 + 6 * 4 = 36 images: angry weight 36 / (7 * 12), others 36 / (7 * 4).
    dm = FERDataModule(tiny_csv, batch_size=8, oversample={"angry": 12})
    dm.setup()
    assert dm.class_counts().tolist() == [4] * 7
    w = dm.class_weights("balanced")
    assert torch.allclose(w, torch.tensor([36 / 84] + [36 / 28] * 6))
    epoch = torch.cat([y for _, y in dm.train_dataloader()])
    assert torch.bincount(epoch, minlength=7).tolist() == [12] + [4] * 6   # what the weights assume
