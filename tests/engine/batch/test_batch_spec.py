"""Batch specs: validation with located problems, variant expansion, stable keys, sweep edits, script rewriting."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.batch.scenario_edits import EditError, apply_edit, retimed
from engine.batch.script_args import ScriptArgumentError, set_call_argument
from engine.batch.spec import BatchSpecError, load_spec, parse_spec, parse_sweep_key
from engine.batch.variants import expand_variants

BASE = {"base": "demo", "seeds": [0, 1], "sweep": {"environment.weather": ["clear", "rain"],
                                                    "agent.car_1.speed_scale": [0.8, 1.2]}}


def test_expansion_is_the_cartesian_product():
    spec = parse_spec(BASE)
    vs = expand_variants(spec)
    assert len(vs) == 8 and [v.id for v in vs] == [f"v{i:04d}" for i in range(8)]
    combos = {(v.seed, v.params["environment.weather"], v.params["agent.car_1.speed_scale"]) for v in vs}
    assert len(combos) == 8
    assert len({v.key for v in vs}) == 8
    assert "seed=1" in vs[-1].label and "speed_scale=1.2" in vs[-1].label


def test_keys_are_stable_and_change_with_what_matters():
    a = expand_variants(parse_spec(BASE))
    assert [v.key for v in a] == [v.key for v in expand_variants(parse_spec(json.loads(json.dumps(BASE))))]
    changed = json.loads(json.dumps(BASE))
    changed["sweep"]["agent.car_1.speed_scale"] = [0.8, 1.3]
    b = expand_variants(parse_spec(changed))
    same = [x.key == y.key for x, y in zip(a, b)]
    assert same == [x.params["agent.car_1.speed_scale"] == 0.8 for x in a]
    bigger = {**BASE, "export": {"size": [224, 128]}}
    assert all(x.key != y.key for x, y in zip(a, expand_variants(parse_spec(bigger))))


def test_every_problem_is_reported_with_its_place(tmp_path):
    doc = {"base": "demo", "prompts": ["x"], "colour": 1, "seeds": [-1],
           "sweep": {"environment.weather": ["hail"], "nonsense": [1], "cut_in.speed": []},
           "export": {"size": [10, 10], "formats": ["mp4"], "backend": "magic"}, "filter": {"bogus": 1}}
    with pytest.raises(BatchSpecError) as ei:
        parse_spec(doc, tmp_path, "spec.json")
    text = str(ei.value)
    for needle in ("colour: unknown field", "exactly one of base, script or prompts", "seeds:",
                   'sweep["environment.weather"]: \'hail\' is not one of', 'sweep["nonsense"]: expected',
                   'sweep["cut_in.speed"]: expected a non-empty list', "export.size:", "export.formats:",
                   "export.backend: unknown backend 'magic'", "filter:"):
        assert needle in text, needle
    assert text.startswith("spec.json: ")


def test_files_are_resolved_next_to_the_spec(tmp_path):
    (tmp_path / "s.py").write_text("cut_in(speed=9.0)\n")
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({"script": {"file": "s.py"}, "sweep": {"cut_in.speed": [6, 9]}}))
    spec = load_spec(spec_file)
    assert spec.script == "cut_in(speed=9.0)\n" and spec.source_kind == "script" and spec.name == "spec"
    spec_file.write_text('{"base": "missing.json",}')
    with pytest.raises(BatchSpecError, match="line 1 column .*invalid JSON"):
        load_spec(spec_file)
    spec_file.write_text('{"base": "missing.json"}')
    with pytest.raises(BatchSpecError, match="missing.json does not exist"):
        load_spec(spec_file)


def test_too_many_variants_is_refused():
    doc = {"base": "demo", "seeds": {"start": 0, "count": 50}, "sweep": {"agent.car_1.delay": list(range(50))},
           "max_variants": 100}
    with pytest.raises(BatchSpecError, match="2500 variants, more than max_variants=100"):
        expand_variants(parse_spec(doc))


def test_sweep_keys():
    k = parse_sweep_key("cut_in[1].gap")
    assert (k.kind, k.target, k.arg, k.index) == ("function", "cut_in", "gap", 1)
    assert parse_sweep_key("agent.ego.delay").target == "ego"
    with pytest.raises(ValueError, match="unknown agent edit"):
        parse_sweep_key("agent.car_1.colour")


def test_scenario_edits(demo_scenario):
    car = demo_scenario.agent("car_1")
    fast = apply_edit(demo_scenario, parse_sweep_key("agent.car_1.speed_scale"), 2.0).agent("car_1")
    assert np.allclose(fast.trajectory.sample(0.5).xy, car.trajectory.sample(1.0).xy)
    assert fast.trajectory.speed_at(0.5) == pytest.approx(2 * car.trajectory.speed_at(1.0))
    late = apply_edit(demo_scenario, parse_sweep_key("agent.car_1.delay"), 0.5).agent("car_1")
    assert np.allclose(late.trajectory.sample(1.0).xy, car.trajectory.sample(0.5).xy)
    moved = apply_edit(demo_scenario, parse_sweep_key("agent.ego.shift_y"), -1.0).ego
    assert moved.trajectory.points[0].y == pytest.approx(demo_scenario.ego.trajectory.points[0].y - 1.0)
    rain = apply_edit(demo_scenario, parse_sweep_key("environment.weather"), "rain")
    assert rain.environment.weather == "rain" and rain.agents == demo_scenario.agents
    with pytest.raises(EditError, match="speed_scale must be positive"):
        apply_edit(demo_scenario, parse_sweep_key("agent.car_1.speed_scale"), 0)
    with pytest.raises(EditError, match="no agent 'car_9'"):
        apply_edit(demo_scenario, parse_sweep_key("agent.car_9.delay"), 1.0)
    with pytest.raises(EditError, match="expected a finite number"):
        apply_edit(demo_scenario, parse_sweep_key("agent.car_1.delay"), "soon")
    assert retimed(car.trajectory).points == car.trajectory.points


def test_set_call_argument():
    script = "# my cut-ins\na = cut_in(side='left', speed=9.0)  # fast\nb = cut_in(speed=5.0)\nforward(a, 12.0)\n"
    out = set_call_argument(script, "cut_in", "speed", 12.5)
    assert out.count("speed=12.5") == 2 and "9.0" not in out
    assert "# my cut-ins" in out and "# fast" in out  # edited in place: comments and layout are kept
    out = set_call_argument(script, "cut_in", "speed", 3.0, index=1)
    assert "speed=9.0" in out and "speed=3.0" in out
    out = set_call_argument(script, "cut_in", "gap", 7.0)
    assert out.count("gap=7.0") == 2
    # forward(who, speed, ...): the positional speed is replaced in place
    out = set_call_argument(script, "forward", "speed", 4.0)
    assert "forward(a, 4.0)" in out
    with pytest.raises(ScriptArgumentError, match="never calls turn_left"):
        set_call_argument(script, "turn_left", "speed", 1.0)
    with pytest.raises(ScriptArgumentError, match="no call \\[5\\]"):
        set_call_argument(script, "cut_in", "speed", 1.0, index=5)
    with pytest.raises(ScriptArgumentError, match="does not parse"):
        set_call_argument("cut_in(", "cut_in", "speed", 1.0)


def test_script_and_prompt_variants_build_scenarios():
    from engine.batch.materialize import build_variant_scenario

    spec = parse_spec({"script": 'truck_1 = cut_in(ego, side="left", cls="truck")\n',
                       "sweep": {"cut_in.speed": [8.0, 12.0]}, "seeds": [3]})
    speeds = []
    for v in expand_variants(spec):
        s = build_variant_scenario(spec, v)
        assert s.name == f"batch_{v.id}" and s.seed == 3 and "speed=" in s.script
        speeds.append(s.agent("truck_1").trajectory.speed_at(0.0))
    assert speeds == pytest.approx([8.0, 12.0], abs=0.01)
    prompts = parse_spec({"prompts": ["a truck cuts in from the left at night"]})
    (v,) = expand_variants(prompts)
    s = build_variant_scenario(prompts, v)
    assert s.prompt == "a truck cuts in from the left at night" and s.environment.time_of_day == "night"
    assert any(a.cls == "truck" for a in s.agents)


def test_bundled_examples_are_valid():
    from engine.paths import RESOURCES_DIR

    examples = sorted((RESOURCES_DIR / "batch_examples").glob("*.json"))
    assert len(examples) >= 4
    counts = {}
    for path in examples:
        spec = load_spec(path)
        counts[path.stem] = len(expand_variants(spec))
    assert counts["demo_weather_seeds"] == 18 and counts["cut_in_sweep"] == 24 and counts["prompt_list"] == 8
    assert load_spec(examples[[p.stem for p in examples].index("ray_cluster_diffusion")]).export.needs_gpu
