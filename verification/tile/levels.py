"""The tile and model verification levels: prepare a plan, run it per simulator, summarise.

``prepare_level`` validates everything and writes the plan (and, at tile
level, the sweep's register images) under ``BUILD_DIR/RUN/verify/LEVEL/``
before any simulator starts; ``run_level`` builds (once per simulator, shared
by both levels under ``verify/build/SIM``) and runs the cocotb testbench, then
writes ``summary.txt`` and ``coverage.json`` next to ``results.xml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cimq.errors import CimqInputError
from cimq.verification.coverage import collect_coverage
from cimq.verification.summary import summary_lines, write_summary
from cimq.verification.tile.plan import TilePlan, write_plan
from cimq.verification.tile.setup import TileSetup, load_tile_setup, verification_sources

__all__ = ["DEFAULT_VECTORS", "Prepared", "LevelRun", "prepare_level", "run_level"]

#: Default ``--vectors``: tile level: input vectors in all; model level: vectors per layer.
DEFAULT_VECTORS = {"unit": 100_000, "tile": 72, "model": 8}


@dataclass(frozen=True, eq=False)
class Prepared:
    level: str
    setup: TileSetup
    plan: TilePlan
    plan_path: Path
    sources: list[Path]
    facts: dict
    mutant: str | None = None

    @property
    def name(self) -> str:
        """Results folder under ``verify/``: the level, or ``LEVEL-mutant-NAME``."""
        return self.level if self.mutant is None else f"{self.level}-mutant-{self.mutant}"


@dataclass(frozen=True, eq=False)
class LevelRun:
    result: object  # SimResult
    lines: list[str]
    bins: list


def prepare_level(level: str, base: Path, build_dir: Path, run: str, *, vectors: int, seed: int,
                  params: Path | None = None, tile_dir: Path | None = None, image: Path | None = None,
                  setup: TileSetup | None = None, mutant: str | None = None) -> Prepared:
    """Load the generated tile, check it against params and the register image, write the plan.

    ``setup`` skips loading (a tile built in Python, e.g. by tests); ``mutant``
    runs on a mutated copy of the tile (:mod:`cimq.verification.mutants`).
    """
    given = setup is not None
    tile_dir = tile_dir or (setup.tile_dir if setup is not None else base / "tile")
    if mutant is not None:
        from cimq.verification.mutants import MUTANTS, make_mutant_tile

        if mutant not in MUTANTS:
            raise CimqInputError(f"{mutant!r} is not one of {', '.join(MUTANTS)}", source="--mutant")
        verification_sources(tile_dir)  # the tile must be there
        arch = setup.config.arch if setup is not None else load_tile_setup(tile_dir, build_dir).config.arch
        tile_dir = make_mutant_tile(tile_dir, base / "verify" / "mutants" / mutant / "tile", mutant, arch)
        setup = None
    sources = verification_sources(tile_dir)
    if setup is None:
        setup = load_tile_setup(tile_dir, build_dir)
    out = base / "verify" / level
    facts: dict = {"tile": f"{setup.mode} tile, {setup.config.arrays} arrays of {setup.config.arch.xbar_rows}x"
                           f"{setup.config.arch.xbar_cols}, layers {', '.join(l.name for l in setup.layers)}",
                   "chip": f"variation {setup.manifest['variation']}, seed {setup.manifest['seed']}, "
                           f"chip {setup.manifest['chip']}"}
    if level == "tile":
        from cimq.verification.tile.stimulus import build_tile_plan

        plan, dropped = build_tile_plan(setup, vectors, seed, out / "images")
        facts |= {"source": f"{tile_dir} (sweep images in {out / 'images'})", "dropped_overflow": dropped}
    elif level == "model":
        from cimq.verification.model.network import resolve_params
        from cimq.verification.model.plan import build_model_plan

        if setup.mode != "model":
            raise CimqInputError("holds the demo layer, not the default model: run `cimq generate --params FILE` "
                                 "and `cimq regs --params FILE` first", source=tile_dir / "tile.json")
        if given and params is None:
            wanted, source = setup.model.params, setup.model.params_source
        else:
            wanted, source = resolve_params(build_dir, run, params)
        if wanted != setup.model.params:
            raise CimqInputError(f"the tile was generated for other params than {source} (rerun `cimq generate "
                                 "--params` and `cimq regs --params` with them)", source=tile_dir / "tile.json")
        image = image or base / "regs" / "regs.bin"
        if not image.is_file():
            raise CimqInputError("not found: run `cimq regs --params FILE` first", source=image)
        plan, more = build_model_plan(setup, image, vectors, seed)
        facts |= {"source": f"register image {image}", "params": source, **more}
    else:
        raise ValueError(f"level must be tile or model, not {level!r}")
    plan_path = write_plan(out / "plan.json", plan)
    return Prepared(level, setup, plan, plan_path, sources, facts, mutant)


def run_level(prep: Prepared, simulator: str, base: Path, *, seed: int, fault: str = "none", waves: bool = False,
              reproduce: str = "", build_dir: Path | None = None) -> LevelRun:
    """Run the prepared plan on one simulator; write its summary and coverage."""
    from cimq.verification.runner import BENCHES, run_bench

    out = base / "verify" / prep.name / simulator
    tile_dir = prep.setup.tile_dir.resolve()
    if build_dir is None:
        build_dir = base / "verify" / ("build" if prep.mutant is None else f"mutants/{prep.mutant}/build") \
            / (f"{simulator}-waves" if waves else simulator)  # a traced build is another build
    result = run_bench(
        BENCHES[prep.level], simulator, prep.sources, out, vectors=prep.plan.outputs, seed=seed, fault=fault,
        extra_env={"CIMQ_PLAN": str(prep.plan_path.resolve())},
        plusargs=[f"+CIMQ_CODES_HEX={tile_dir / 'crossbar_codes.hex'}", f"+CIMQ_BIAS_HEX={tile_dir / 'bias.hex'}"],
        waves=waves, build_dir=build_dir,
    )
    summary_path = out / "summary.json"
    sim_summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    bins = collect_coverage(prep.plan, sim_summary.get("per_segment", []), len(prep.setup.layers),
                            images=sim_summary.get("images_replayed", 0),
                            switches=sim_summary.get("context_switches", 0))
    facts = prep.facts | {"sim_summary": sim_summary}
    lines = summary_lines(prep.level, result, facts, bins, reproduce)
    data = {"level": prep.level, "mutant": prep.mutant, "simulator": simulator, "passed": result.passed, "checked": result.checked,
            "mismatches": result.mismatches, **{k: v for k, v in prep.facts.items()}}
    write_summary(out, lines, data, bins)
    return LevelRun(result, lines, bins)
