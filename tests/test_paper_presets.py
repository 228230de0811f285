"""The material presets of the paper (Gao et al., Nano-Micro Lett. 15:222 (2023)): the Si core-shell front,
the nearly uniform alloy, and the derived alloy, Sn and Sb properties (radial backend, 0.1 A/g, R = 4.11 um)."""

from __future__ import annotations

import numpy as np
import pytest

from models import LithiationModel, StopCondition, get_preset
from models.fronts import front_metrics
from models.materials import PRESETS, composite_properties, stoichiometric_capacity
from solvers import radial
from solvers.api import MemorySink, Numerics, OutputRequest

MAH_G = 3600.0


def _profiles(name: str) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    model = LithiationModel(
        radius=4.11e-6, material=get_preset(name), specific_current=100.0, stop=StopCondition("dod", 0.5)
    )
    sink = MemorySink()
    radial.solve(model, OutputRequest(dods=(0.25, 0.5)), Numerics(), sink)
    return {round(f.dod, 6): (f.points[:, 0], f.point_data["theta"]) for f in sink.frames}


@pytest.fixture(scope="module")
def si_profiles():
    return _profiles("Si")


@pytest.fixture(scope="module")
def alloy_profiles():
    return _profiles("Si8.5Sn0.5Sb")


@pytest.mark.parametrize("dod", [0.25, 0.5])
def test_si_has_a_li_rich_shell_behind_a_sharp_front(si_profiles, dod) -> None:
    m = front_metrics(*si_profiles[dod])
    assert m.shell >= 0.75, m
    assert m.core <= 0.05, m
    assert m.front_width <= 0.25, m


def test_alloy_stays_near_uniform_at_half_discharge(alloy_profiles, si_profiles) -> None:
    r, theta = alloy_profiles[0.5]
    m = front_metrics(r, theta)
    assert m.deviation <= 0.25, m
    assert np.abs(theta - 0.5).max() <= 0.25  # the uniform state at DOD 0.5 is theta = 0.5
    assert m.spread < 0.5 * front_metrics(*si_profiles[0.5]).spread  # far flatter than Si at the same DOD


def test_front_metrics_of_known_profiles() -> None:
    r = np.linspace(0.0, 1.0, 1001)
    step = np.where(r > 0.7, 0.9, 0.0)
    ramp = 0.9 * np.clip((r - 0.6) / 0.2, 0.0, 1.0)  # linear front from 0.6 to 0.8
    m = front_metrics(r, ramp)
    assert m.shell == pytest.approx(0.9) and m.core == 0.0
    assert m.front_width == pytest.approx(0.6 * 0.2, abs=2e-3)
    assert m.front_position == pytest.approx(0.7, abs=1e-3)
    assert front_metrics(r, np.full_like(r, 0.4)).deviation == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        front_metrics(r[::-1], step)


def test_stoichiometric_capacities() -> None:
    assert stoichiometric_capacity("Si") / MAH_G == pytest.approx(3578.6, abs=0.5)
    assert stoichiometric_capacity("Sn") / MAH_G == pytest.approx(993.4, abs=0.5)
    assert stoichiometric_capacity("Sb") / MAH_G == pytest.approx(660.4, abs=0.5)


def test_alloy_has_its_own_derived_properties() -> None:
    si, alloy = PRESETS["Si"], PRESETS["Si8.5Sn0.5Sb"]
    # Li15Si4 + Li22Sn5 + Li3Sb: 37.075 Li per (8.5 M_Si + 0.5 M_Sn + M_Sb) = 419.84 g/mol
    assert alloy.capacity / MAH_G == pytest.approx(37.075 * 26801.48 / 419.842, rel=1e-4)
    assert alloy.capacity < 2780 * MAH_G < si.capacity  # below the measured first discharge (SEI etc.)
    assert 3.0e3 < alloy.density < 3.5e3 and alloy.density != si.density
    assert alloy.youngs_modulus < si.youngs_modulus and alloy.poisson_ratio > si.poisson_ratio
    assert alloy.diffusivity(0.3) == pytest.approx(10.0 * si.diffusivity(0.3))
    assert alloy.diffusivity(0.95) == pytest.approx(10.0 * si.diffusivity(0.95))
    # c_max from the composition: 37.075 mol Li per sum of molar volumes
    v = 8.5 * 28.0855 / 2.33 + 0.5 * 118.71 / 7.30 + 121.76 / 6.696  # cm^3 per mol of formula units
    assert alloy.c_max == pytest.approx(37.075 / (v * 1e-6), rel=1e-3)


def test_composite_of_one_element_is_that_element() -> None:
    props = composite_properties({"Sn": 1.0}, {"Sn": PRESETS["Sn"]})
    sn = PRESETS["Sn"]
    assert props["capacity"] == pytest.approx(sn.capacity)
    assert props["density"] == pytest.approx(sn.density)
    assert props["youngs_modulus"] == pytest.approx(sn.youngs_modulus)
    assert props["partial_molar_volume"] == pytest.approx(sn.partial_molar_volume)


@pytest.mark.parametrize("name", ["Si", "Si8.5Sn0.5Sb", "Sn", "Sb"])
def test_every_preset_number_has_a_source(name) -> None:
    m = PRESETS[name]
    for key in ("capacity", "density", "diffusivity", "youngs_modulus", "poisson_ratio", "partial_molar_volume"):
        assert key in m.sources and len(m.sources[key]) > 10
    text = " ".join(m.sources.values())
    assert "Section 4.1)" not in text  # Gao et al. Section 4.1 gives no E, nu or Omega
