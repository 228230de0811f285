"""The composite-sphere (Lame) and Eshelby references of models.analytical checked against each other
and against the one-material free sphere."""

import numpy as np
import pytest

from models.analytical import composite_sphere, eshelby_sphere_hydrostatic


def test_one_material_uniform_eigenstrain_is_stress_free() -> None:
    sol = composite_sphere(1.0, 2.0, core=(80e9, 0.22, 0.01), shell=(80e9, 0.22, 0.01))
    r = np.linspace(0, 2, 9)
    assert np.allclose(sol["sigma_r"](r), 0, atol=1e-3) and np.allclose(sol["sigma_t"](r), 0, atol=1e-3)
    assert sol["u"](2.0) == pytest.approx(0.02)


def test_interface_continuity_and_free_surface() -> None:
    sol = composite_sphere(0.4, 1.0, core=(50e9, 0.36, 0.02), shell=(80e9, 0.22, -0.01))
    a = 0.4
    assert sol["sigma_r"](a) == pytest.approx(float(sol["sigma_r"](a + 1e-12)), rel=1e-9)
    assert sol["u"](a) == pytest.approx(float(sol["u"](a + 1e-12)), rel=1e-9)
    assert sol["sigma_r"](1.0) == pytest.approx(0.0, abs=1e-3)


def test_large_shell_tends_to_eshelby() -> None:
    e, nu, mismatch = 80e9, 0.22, 0.01
    sol = composite_sphere(1.0, 200.0, core=(e, nu, mismatch), shell=(e, nu, 0.0))
    assert sol["core_hydrostatic"] == pytest.approx(eshelby_sphere_hydrostatic(e, nu, mismatch), rel=1e-5)
    assert eshelby_sphere_hydrostatic(e, nu, mismatch) < 0  # a swelling inclusion is compressed
