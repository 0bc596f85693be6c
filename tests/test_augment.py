import torch

from fer_bench.data.augment import AugmentConfig, augment, to_float

FULL = AugmentConfig(hflip=True, rotation=30, shift=0.2, zoom=0.2, shear=0.2, brightness=(0.8, 1.2))


def batch(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return to_float(torch.randint(0, 256, (n, 48, 48), dtype=torch.uint8, generator=g))


def test_shapes_dtype_and_range_are_kept():
    x = batch()
    y = augment(x, FULL, torch.Generator().manual_seed(0))
    assert y.shape == x.shape == (16, 1, 48, 48) and y.dtype == torch.float32
    assert y.min() >= 0 and y.max() <= 1
    assert not torch.equal(x, y)


def test_seeded():
    x = batch()
    a = augment(x, FULL, torch.Generator().manual_seed(1))
    b = augment(x, FULL, torch.Generator().manual_seed(1))
    c = augment(x, FULL, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_inactive_config_is_identity():
    x = batch()
    assert augment(x, AugmentConfig(), torch.Generator()) is x


def test_flip_alone_is_an_exact_mirror():
    x = batch(64)
    y = augment(x, AugmentConfig(hflip=True), torch.Generator().manual_seed(0))
    mirrored = (y == x.flip(-1)).flatten(1).all(1)
    same = (y == x).flatten(1).all(1)
    assert (mirrored | same).all()
    assert 10 < int(mirrored.sum()) < 54   # about half of 64


def test_rotation_only_warps_geometry_not_brightness():
    # A uniform image stays uniform under any affine warp with border padding.
    x = torch.full((8, 1, 48, 48), 0.5)
    y = augment(x, AugmentConfig(rotation=30, shift=0.2, zoom=0.2, shear=0.2), torch.Generator().manual_seed(0))
    assert torch.allclose(y, x, atol=1e-6)


def test_brightness_scales_within_its_range():
    x = torch.full((256, 1, 48, 48), 0.5)
    y = augment(x, AugmentConfig(brightness=(0.8, 1.2)), torch.Generator().manual_seed(0))
    f = y[:, 0, 0, 0] / 0.5
    assert f.min() >= 0.8 - 1e-6 and f.max() <= 1.2 + 1e-6 and f.std() > 0.05


def test_zoom_in_enlarges_a_centred_square():
    x = torch.zeros(1, 1, 48, 48)
    x[..., 20:28, 20:28] = 1
    cfg = AugmentConfig(zoom=0.5, fill="zeros")
    areas = [float(augment(x, cfg, torch.Generator().manual_seed(s)).sum()) for s in range(20)]
    assert min(areas) < 64 < max(areas)   # zoom factors on both sides of 1


def test_random_erasing_zeroes_one_rectangle_in_about_p_of_the_images():
    x = torch.full((2000, 1, 48, 48), 0.5)
    y = augment(x, AugmentConfig(erase=0.5), torch.Generator().manual_seed(0))
    zero = y == 0
    erased = zero.flatten(1).any(1)
    assert 0.45 < erased.float().mean() < 0.55
    assert torch.equal(y[~erased], x[~erased])            # the others are untouched
    frac = zero[erased].flatten(1).float().mean(1)
    assert frac.min() >= 1 / (48 * 48) and frac.max() <= 0.34 and 0.12 < frac.mean() < 0.22
    # One axis-aligned rectangle: the zero pixels fill their bounding box exactly.
    for img in zero[erased][:50, 0]:
        rows, cols = img.any(1).nonzero(), img.any(0).nonzero()
        box = img[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all() and box.sum() == img.sum()


def test_augment_never_writes_into_its_input():
    """The brightness step works in place on the warped copy; the caller's batch must stay as it was."""
    x = torch.rand(16, 1, 48, 48)
    before = x.clone()
    for cfg in (AugmentConfig(brightness=(0.5, 1.5)), AugmentConfig(hflip=True, rotation=10, brightness=(0.5, 1.5)),
                AugmentConfig(brightness=(0.5, 1.5), erase=1.0)):
        y = augment(x, cfg, torch.Generator().manual_seed(0))
        assert torch.equal(x, before) and not torch.equal(y, x)
