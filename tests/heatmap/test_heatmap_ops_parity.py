"""The standalone functions against mmpose.codecs.utils, for each CPU backend, and on
a representative subset (EMULATED) for the cuda-emulator backend."""
import numpy as np
import pytest

from fastcodec import ops
from conftest import (EMULATED, HEATMAP_KINDS, adversarial_keypoints, adversarial_visibility,
                      perturb)

SIZES = [(48, 64), (72, 96), (13, 7)]


@pytest.mark.parametrize('name', ['generate_gaussian_heatmaps', 'generate_unbiased_gaussian_heatmaps',
                                  'generate_udp_gaussian_heatmaps'])
@pytest.mark.parametrize('sigma', [2.0, 1.5, 3, 0.7])
@EMULATED(keep=lambda p: p['sigma'] == 1.5)
def test_gaussian_generators(mmu, backend, name, sigma):
    rng = np.random.default_rng(int(sigma * 10))
    for trial, size in enumerate(SIZES * 6):
        n = 1 + trial % 3
        kps = adversarial_keypoints(rng, size, (1.0, 1.0), n=n)
        if trial % 2:
            kps = kps.astype(np.float32)
        vis = adversarial_visibility(rng, n=n)
        sig = [sigma * (1 + i) for i in range(n)] if name == 'generate_gaussian_heatmaps' and n > 1 else sigma
        got = getattr(ops, name)(size, kps, vis, sig)
        want = getattr(mmu, name)(size, kps, vis, sig)
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-5)
        assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype
        np.testing.assert_array_equal(got[1], want[1])


@EMULATED
def test_offset_generator(mmu, backend):
    rng = np.random.default_rng(3)
    for size in SIZES:
        for radius_factor in (0.0546875, 0.2):
            kps = adversarial_keypoints(rng, size, (1.0, 1.0), n=2)
            vis = adversarial_visibility(rng, n=2)
            got = ops.generate_offset_heatmap(size, kps, vis, radius_factor)
            want = mmu.generate_offset_heatmap(size, kps, vis, radius_factor)
            np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-5)
            np.testing.assert_array_equal(got[1], want[1])


def random_maps(rng, kind, shape=(17, 64, 48)):
    base = np.zeros(shape, np.float32)
    K, H, W = shape
    for k in range(K):
        y, x = rng.uniform(-2, H + 2), rng.uniform(-2, W + 2)
        yy, xx = np.mgrid[:H, :W]
        base[k] = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 8)
    return perturb(rng, base, kind)


@pytest.mark.parametrize('kind', HEATMAP_KINDS)
@EMULATED(keep=lambda p: p['kind'] == 'plateau')
def test_heatmap_maximum(mmu, backend, kind):
    rng = np.random.default_rng(11)
    maps = random_maps(rng, kind)
    for arr in (maps, maps.reshape(1, *maps.shape), np.stack([maps, -maps])):
        got, want = ops.get_heatmap_maximum(arr), mmu.get_heatmap_maximum(arr)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype


@EMULATED
def test_heatmap_maximum_ties_and_nan(mmu, backend):
    maps = np.zeros((4, 5, 6), np.float32)
    maps[0, 1, 2] = maps[0, 3, 1] = 2.0          # tie: the first occurrence wins
    maps[1] = 1.0                                 # flat: index 0
    maps[2, 2, 2], maps[2, 4, 4] = 5.0, np.nan   # numpy's argmax stops at NaN
    maps[3] = -1.0                                # non-positive: location -1
    got, want = ops.get_heatmap_maximum(maps), mmu.get_heatmap_maximum(maps)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize('kernel', [3, 5, 7, 9, 11, 17, 23])
@pytest.mark.parametrize('kind', HEATMAP_KINDS)
@EMULATED(keep=lambda p: (p['kernel'], p['kind']) == (23, 'noisy'))
def test_gaussian_blur(mmu, backend, kernel, kind):
    rng = np.random.default_rng(kernel)
    for shape in ((17, 64, 48), (5, 96, 72), (3, 9, 13)):
        maps = random_maps(rng, kind, shape)
        want = mmu.gaussian_blur(maps.copy(), kernel)
        got = ops.gaussian_blur(maps.copy(), kernel)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('kind', HEATMAP_KINDS)
@pytest.mark.parametrize('name,kernel', [('refine_keypoints', None), ('refine_keypoints_dark', 11),
                                         ('refine_keypoints_dark', 17),
                                         ('refine_keypoints_dark_udp', 11),
                                         ('refine_keypoints_dark_udp', 5)])
@EMULATED(keep=lambda p: p['kind'] == 'noisy' and p['kernel'] != 17)
def test_refinements(mmu, backend, name, kernel, kind):
    rng = np.random.default_rng(5)
    maps = random_maps(rng, kind)
    locs, _ = mmu.get_heatmap_maximum(maps)
    args = () if kernel is None else (kernel,)
    want = getattr(mmu, name)(locs[None].copy(), maps.copy(), *args)
    kps = locs[None].copy()
    got = getattr(ops, name)(kps, maps.copy(), *args)
    assert got is kps and got.dtype == want.dtype
    nudged = getattr(mmu, name)(locs[None].copy(), maps * np.float32(1 + 1e-6), *args)
    stable = (np.abs(nudged - want) <= 1e-3).all(-1)   # see test_parity_codecs
    np.testing.assert_allclose(got[stable], want[stable], rtol=0, atol=5e-4)


@EMULATED
def test_heatmap_maximum_nan_in_large_maps(mmu, backend):
    """The vectorised search must keep numpy's rule: the first NaN wins."""
    rng = np.random.default_rng(9)
    maps = rng.random((6, 64, 48)).astype(np.float32)
    maps[0, 0, 0] = np.nan
    maps[1, 63, 47] = np.nan
    maps[2, 30, 17] = np.nan
    maps[2, 40, 3] = np.inf
    maps[3, 10, 10] = maps[3, 50, 40] = 5.0           # tie across the SIMD passes
    maps[4] = -maps[4]
    maps[5, 61, 5:9] = np.nan
    got, want = ops.get_heatmap_maximum(maps), mmu.get_heatmap_maximum(maps)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize('width', [31, 32, 33, 63, 64, 95, 100, 129])
@EMULATED(keep=lambda p: p['width'] in (33, 129))
def test_heatmap_maximum_block_search(mmu, backend, width):
    """The vectorised argmax searches blocks of 32 floats: ties within a lane, across
    lanes and blocks, a maximum in the tail after the last full block, -inf rows,
    signed zeros and maps of few distinct values, against numpy's first occurrence."""
    rng = np.random.default_rng(width)
    maps = rng.integers(-3, 4, (40, 3, width)).astype(np.float32)   # many ties
    maps[0] = -np.inf
    maps[1] = -np.inf
    maps[1, 2, -1] = -5.0                      # the only finite value: last element
    maps[2] = 0.0
    maps[2, 1, 7] = -0.0
    maps[3] = -0.0
    maps[4, 2, width - 1] = 9.0                # in the tail when width % 32
    maps[5, 0, 0] = maps[5, 2, width - 1] = 9.0  # a tie between the first and last
    maps[6, 1, 8] = maps[6, 1, 0] = 9.0        # the same lane of two vectors
    maps[7] = rng.random((3, width)).astype(np.float32)
    maps[8, 2, width - 1] = np.inf
    maps[9, 2, width - 2] = np.nan
    got, want = ops.get_heatmap_maximum(maps), mmu.get_heatmap_maximum(maps)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    # get_heatmap_maximum's locations hide the index of non-positive maxima: check it
    # through SimCC's argmax too, which reports every index (one row per map)
    rows = maps.reshape(40, -1)
    locs, vals = ops.get_simcc_maximum(rows, rows)
    np.testing.assert_array_equal(vals, rows.max(axis=1))
    keep = vals > 0
    np.testing.assert_array_equal(locs[keep, 0], rows.argmax(axis=1)[keep])
