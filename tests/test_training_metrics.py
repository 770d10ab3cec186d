"""Class weights of the loss."""

from __future__ import annotations

import numpy as np
import pytest

from seiswork.training import compute_class_weights


pytestmark = pytest.mark.usefixtures("one_thread")


def test_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 30 + [1] * 10 + [2] * 5)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    np.testing.assert_allclose(compute_class_weights(labels, 3), expected)
    with pytest.warns(UserWarning, match=r"classes \[2\] have no training samples"):
        w = compute_class_weights(np.array([0, 0, 1]), 3)
    np.testing.assert_allclose(w, [0.75, 1.5, 0.0])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        compute_class_weights(np.array([0, 2]), 2)
