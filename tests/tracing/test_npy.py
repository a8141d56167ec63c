"""``tracing.npy.load_npy`` gives what ``np.load`` gives for every ``.npy`` image, and raises
what it raises for a broken one."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tracing.npy import load_npy

DTYPES = st.sampled_from(["<f8", ">f8", "<f4", "<i8", ">i4", "|u1", "|b1", "<c16", "<U3"])


def image(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def reference(raw: bytes) -> np.ndarray:
    return np.load(io.BytesIO(raw), allow_pickle=False)


@given(
    DTYPES.flatmap(lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0))),
    st.booleans(),
)
def test_the_array_is_the_one_np_load_gives(a: np.ndarray, fortran: bool) -> None:
    if fortran:
        a = np.asfortranarray(a)
    raw = image(a)
    got, want = load_npy(raw), reference(raw)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.flags.f_contiguous == want.flags.f_contiguous
    np.testing.assert_array_equal(got, want)
    got[...] = want  # writable, and its own memory (the image is untouched)
    assert image(reference(raw)) == raw


def test_a_second_image_with_the_same_header_gets_its_own_values() -> None:
    first, second = load_npy(image(np.arange(4.0))), load_npy(image(np.arange(4.0) * 2))
    assert first.tolist() == [0, 1, 2, 3] and second.tolist() == [0, 2, 4, 6]


@pytest.mark.parametrize("cut", [3, 9, 40, -1])
def test_a_truncated_image_raises_what_np_load_raises(cut: int) -> None:
    raw = image(np.arange(6.0).reshape(2, 3))[:cut]
    with pytest.raises(ValueError) as want:
        reference(raw)
    with pytest.raises(type(want.value)):
        load_npy(raw)


def test_an_object_array_is_refused_as_np_load_refuses_it() -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        load_npy(buf.getvalue())
