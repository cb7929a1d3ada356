"""benchmarks/_harness.py's memory floors: what each one writes or reads."""
import mmap

import numpy as np
import pytest

from benchmark_scripts import load_benchmark_script

FLOATS_PER_PAGE = mmap.PAGESIZE // 4


@pytest.fixture(scope='module')
def harness():
    return load_benchmark_script('_harness.py')


def test_page_floor_writes_once_into_each_page_the_non_zero_values_occupy(harness):
    target = np.zeros((3, 5 * FLOATS_PER_PAGE), np.float32)
    target[0, 7] = target[0, 9] = 0.5            # two values, one page
    target[1, 2 * FLOATS_PER_PAGE - 1] = 1.0      # a page's last float
    target[2, 4 * FLOATS_PER_PAGE + 3] = -2.0
    written = harness.page_floor(target)()
    assert written.shape == (target.size,) and written.dtype == np.float32
    pages = np.flatnonzero(target.reshape(-1)) // FLOATS_PER_PAGE
    expected = np.zeros(target.size, np.float32)
    expected[np.unique(pages) * FLOATS_PER_PAGE] = 1.0
    np.testing.assert_array_equal(written, expected)


def test_write_and_read_floors_cover_the_same_bytes(harness):
    result = dict(a=np.ones((4, 8), np.float32), b=(np.ones(3), np.ones(2, np.uint8)))
    assert harness.nbytes(result) == 4 * 8 * 4 + 3 * 8 + 2
    assert harness.read_floor(np.arange(12.0).reshape(3, 4))() == 11.0
