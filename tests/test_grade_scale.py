"""The grade's scales by hand: letters on quantile boundaries, stars in equal-width bins, GreenIDCard edges."""

from __future__ import annotations

import pytest

from greenai_core.errors import GradeError
from greenai_core.grading import GREENIDCARD_BOUNDARIES, legacy_grade, letter_for, quantile, stars_for

BOUNDS = [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(("value", "letter"), [
    (0.5, "A"), (0.999, "A"), (1.0, "B"), (1.5, "B"), (2.0, "C"), (3.0, "D"), (3.999, "D"), (4.0, "E"), (1e9, "E"),
])
def test_letters_a_value_on_a_boundary_gets_the_worse_letter(value: float, letter: str) -> None:
    assert letter_for(value, BOUNDS) == letter


def test_equal_boundaries_skip_letters() -> None:
    assert letter_for(1.0, [1.0, 1.0, 3.0, 4.0]) == "C"  # on both equal boundaries: past both
    assert letter_for(0.9, [1.0, 1.0, 3.0, 4.0]) == "A"
    assert letter_for(5.0, [5.0, 5.0, 5.0, 5.0]) == "E"


@pytest.mark.parametrize("bad", [[1.0, 2.0, 3.0], [4.0, 3.0, 2.0, 1.0], [1.0, 2.0, float("nan"), 4.0]])
def test_bad_boundaries_are_refused(bad: list[float]) -> None:
    with pytest.raises(GradeError):
        letter_for(1.0, bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, "1"])
def test_a_value_that_is_not_a_finite_number_is_refused(bad: object) -> None:
    with pytest.raises(GradeError, match="finite number"):
        letter_for(bad, BOUNDS)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "stars"), [
    # range 10..20: bins of width 2 with inner edges 12, 14, 16, 18
    (10.0, 5), (11.99, 5), (12.0, 4), (13.0, 4), (14.0, 3), (16.0, 2), (17.99, 2), (18.0, 1), (20.0, 1),
    (5.0, 5), (25.0, 1),  # clamped outside
])
def test_stars_equal_width_bins_lowest_energy_five(value: float, stars: int) -> None:
    assert stars_for(value, 10.0, 20.0) == stars


def test_stars_of_a_range_of_one_value() -> None:
    assert stars_for(3.0, 3.0, 3.0) == 5
    assert stars_for(2.0, 3.0, 3.0) == 5
    assert stars_for(3.5, 3.0, 3.0) == 1


def test_stars_refuse_an_upside_down_range() -> None:
    with pytest.raises(GradeError, match="above its high end"):
        stars_for(1.0, 5.0, 2.0)


def test_quantiles_are_numpys_linear_definition_by_hand() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]  # sorted 1 2 3 4 5 10; position (n-1) q = 5 q
    assert quantile(values, 0.2) == 2.0  # position 1
    assert quantile(values, 0.4) == 3.0  # position 2
    assert quantile(values, 0.5) == 3.5  # halfway between 3 and 4
    assert quantile(values, 0.9) == 7.5  # position 4.5: 5 + 0.5 x (10 - 5)
    assert quantile(values, 0.0) == 1.0
    assert quantile(values, 1.0) == 10.0
    assert quantile([7.0], 0.3) == 7.0


def test_quantile_refuses_nothing_and_out_of_range() -> None:
    with pytest.raises(GradeError):
        quantile([], 0.5)
    with pytest.raises(GradeError):
        quantile([1.0], 1.5)


# GreenIDCard: A < 0.15 <= B < 0.50 <= C < 1.00 <= D < 1.75 <= E; metric 1 = W x PUE / 1000.
@pytest.mark.parametrize(("watts", "letter"), [
    (149.0, "A"), (150.0, "B"), (499.0, "B"), (500.0, "C"), (999.0, "C"), (1000.0, "D"), (1749.0, "D"),
    (1750.0, "E"), (0.0, "A"),
])
def test_greenidcard_metric_one_at_each_edge(watts: float, letter: str) -> None:
    grade = legacy_grade(watts, None)
    assert grade.letter == letter
    assert grade.value == watts / 1000
    assert grade.legacy and grade.scheme == "greenidcard" and grade.stars is None
    assert "unavailable" in grade.warnings[0]


def test_greenidcard_boundaries_are_the_legacy_scale() -> None:
    assert GREENIDCARD_BOUNDARIES == (0.15, 0.50, 1.00, 1.75)
    assert letter_for(0.15, GREENIDCARD_BOUNDARIES) == "B"  # 0.15 exactly is B


def test_greenidcard_takes_the_worse_of_its_two_metrics() -> None:
    # metric 1 = 100 x 1.2 / 1000 = 0.12 (A); metric 2 = 100 / 200 = 0.5 (C): the grade is C, from metric 2.
    grade = legacy_grade(100.0, 200.0, pue=1.2)
    metrics = grade.details["metrics"]
    assert [m["letter"] for m in metrics.values()] == ["A", "C"]
    assert metrics["greenidcard: active power x PUE / 1000"]["value"] == pytest.approx(0.12, rel=1e-12)
    assert (grade.letter, grade.value, grade.metric) == ("C", 0.5, "greenidcard: active power / maximum power")
    assert grade.warnings == []
    # metric 1 worse: 400 W x 1.5 / 1000 = 0.6 (C), 400 / 4000 = 0.1 (A)
    assert legacy_grade(400.0, 4000.0, pue=1.5).letter == "C"
    assert "legacy" in legacy_grade(400.0, 4000.0).describe()


@pytest.mark.parametrize(("args", "match"), [((-1.0, None), "active power"), ((1.0, 0.0), "maximum power"),
                                             ((1.0, None, 0.0), "PUE")])
def test_greenidcard_refuses_impossible_inputs(args: tuple[float, ...], match: str) -> None:
    with pytest.raises(GradeError, match=match):
        legacy_grade(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("low", "high"), [(0.1, 0.5), (0.05, 0.25), (1e-4, 3.3e-3), (0.3, 0.7)])
def test_a_value_exactly_on_a_shown_star_edge_gets_the_fewer_stars(low: float, high: float) -> None:
    from greenai_core.grading import Reference, relative_grade

    ref = Reference.from_values("energy_per_inference_j", [low, low, high, high, high])
    edges = relative_grade(low, ref).details["star_edges"]
    assert [stars_for(edge, low, high) for edge in edges] == [4, 3, 2, 1]
    assert [relative_grade(edge, ref).stars for edge in edges] == [4, 3, 2, 1]
