"""The command line: a thin shell over the library (``ungeanalyse --help``).

A user mistake (bad config, broken file, missing key) prints one plain message and exits 2;
only a bug in ungeanalyse itself shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import UserError


def _config(args: argparse.Namespace):
    from .config import load_config

    return load_config(args.config)


def cmd_demo(args: argparse.Namespace) -> int:
    """Write the project's demo raw files."""
    from .demo import make_demo

    cfg = _config(args)
    files = make_demo(cfg)
    print(f"Demo data for {cfg.project.name}: {len(files.files)} files in {files.raw_dir} "
          f"({len(files.truth)} young people, {files.broken_rows} deliberately broken rows, "
          f"{files.duplicate_rows} duplicate).")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    """Run the clean stage and print rows in / clean / quarantined per table.

    Exits 2 when no participant file could be read; 1 with --strict when some file failed.
    """
    from .clean import clean_project
    from .pipeline import file_errors, no_participant_files, project_lock

    cfg = _config(args)
    with project_lock(cfg):  # not while a run of the same project reads these files
        result = clean_project(cfg)
    print(result.summary())
    print(f"Clean tables and quality.json written to {cfg.processed_dir}")
    problem = no_participant_files(result.quality, cfg.processed_dir / "quality.json")
    if problem:
        raise UserError(problem)
    errors = file_errors(result.quality)
    _warn(errors)
    return 1 if errors and args.strict else 0


def _warn(errors: list[str]) -> None:
    """Files that could not be used, on stderr, so that a script or a log sees them."""
    for err in errors:
        print(f"ungeanalyse: warning: file not used: {err}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    """Clean, then run every notebook for every unit, render HTML and the index."""
    from .pipeline import run

    cfg = _config(args)
    summary = run(cfg, jobs=args.jobs, force=args.force, only=args.only, lang=args.lang,
                  executor=args.executor, scheduler=args.scheduler,
                  progress=not args.no_progress)
    print(summary.summary())
    _warn(summary.file_errors)
    return summary.exit_code


def cmd_scan(args: argparse.Namespace) -> int:
    """Scan files for CPR numbers, names, e-mail addresses and phone numbers."""
    import json

    from .privacy import load_key, scan_paths, scan_report

    name_fps: set[str] | None = None
    key = None
    if args.config:
        cfg = _config(args)
        fp_file = cfg.processed_dir / "name_fingerprints.json"
        if fp_file.exists():
            name_fps = set(json.loads(fp_file.read_text(encoding="utf-8")))
            key = load_key(cfg.project.id, demo=cfg.privacy.demo, key_file=cfg.key_file)
    findings = scan_paths([Path(p) for p in args.paths], name_fps=name_fps, key=key)
    print(scan_report(findings))
    return 1 if findings else 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    """Copy the shipped notebooks to a folder for editing, or print where they are."""
    from .bundled import copy_notebooks, notebooks_dir

    if args.dir is None:
        print(notebooks_dir())
        return 0
    files = copy_notebooks(args.dir, overwrite=args.force)
    target = Path(args.dir).expanduser().resolve()
    print(f"Copied {len(files)} notebooks to {target}. Open them in JupyterLab, or let "
          f"`ungeanalyse run` use them: add `notebooks_dir: {target}` under files: in the "
          "config (a relative path resolves from the config's folder).")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Read partner files and write a draft config with a TODO for what is not mapped."""
    from .partner_files import draft_config

    draft = draft_config(args.inputs, args.config, overwrite=args.force)
    print(draft.summary())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a config against its raw files; exit 1 when something must be fixed."""
    from .partner_files import check_config

    report = check_config(_config(args))
    print(report.summary())
    return report.exit_code


def cmd_migrate(args: argparse.Namespace) -> int:
    """Rewrite a config's older ``<key>_en`` texts as {da, en} pairs, keeping its comments."""
    from .config import migrate_config

    changed = migrate_config(args.config)
    print(f"{args.config}: " + ("texts rewritten as {da, en} pairs" if changed else
                                "nothing to rewrite (no <key>_en texts)"))
    return 0


def cmd_effect(args: argparse.Namespace) -> int:
    """Estimate the effects against the register comparison group and print them."""
    import json

    from .comparison import att_estimates, run_comparison
    from .disclosure import load_masks
    from .reader.comparison import effect_table, effect_text

    cfg = _config(args)
    result = run_comparison(cfg)
    if args.json:
        print(json.dumps({"primary_months": result.primary_months,
                          "estimates": att_estimates(result, min_cell=cfg.privacy.min_cell)},
                         indent=2, ensure_ascii=False))
        return 0
    masks = load_masks(cfg, "all", args.lang)
    for months in sorted(cfg.comparison.outcomes):
        print(effect_table(result, masks, cfg, months, args.lang).frame.to_string(index=False))
        print()
    print(effect_text(result, masks, cfg, args.lang))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per verb (long because it is that list)."""
    parser = argparse.ArgumentParser(
        prog="ungeanalyse",
        description="Realist evaluation of youth-education projects: clean partner data, "
                    "måltal, what works for whom, and HTML reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument("--config", required=required,
                       help="project config, e.g. config/aumi.yml (its relative paths resolve "
                            "from its own folder)")

    p = sub.add_parser("demo", help="write the project's generated demo raw data")
    with_config(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("clean", help="clean and pseudonymise the raw files")
    with_config(p)
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if any file could not be used (no usable participant file at "
                        "all exits 2, with or without --strict)")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("run", help="clean, run all notebooks for all units, write reports")
    with_config(p)
    p.add_argument("--jobs", type=int, default=2, help="units run in parallel (default 2)")
    p.add_argument("--force", action="store_true", help="rerun even what is unchanged")
    p.add_argument("--only", default=None, help="run one unit: 'all' or a delprojekt id")
    p.add_argument("--lang", default="da", choices=["da", "en"], help="report language")
    p.add_argument("--executor", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", default=None, help="Dask scheduler address")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("effect", help="effects against the register comparison group "
                                      "(comparison: in the config; run clean first)")
    with_config(p)
    p.add_argument("--lang", default="da", choices=["da", "en"], help="language")
    p.add_argument("--json", action="store_true",
                   help="the adjusted estimates as plain numbers (JSON; unsuppressed: for the "
                        "evaluator, not for publication)")
    p.set_defaults(func=cmd_effect)

    p = sub.add_parser("init", help="read partner files and write a draft config")
    p.add_argument("inputs", nargs="+", help="a folder of partner files, or the files")
    p.add_argument("--config", default=None,
                   help="where to write the draft (default: project.yml in the folder)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("check", help="validate a config against its raw files (writes nothing; "
                                     "exit 1 when something must be fixed)")
    with_config(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("migrate", help="rewrite a config's older <key>_en texts as "
                                       "{da, en} pairs (comments kept)")
    with_config(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("notebooks", help="copy the shipped notebooks to DIR for editing "
                                         "(without DIR: print where they are)")
    p.add_argument("dir", nargs="?", default=None, help="folder to copy the notebooks to")
    p.add_argument("--force", action="store_true", help="overwrite notebooks already there")
    p.set_defaults(func=cmd_notebooks)

    p = sub.add_parser("scan", help="look for personal data in outputs")
    p.add_argument("paths", nargs="+", help="files or folders to scan")
    with_config(p, required=False)
    p.set_defaults(func=cmd_scan)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ungeanalyse`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"ungeanalyse: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        from .pipeline import RunInterrupted

        if isinstance(exc, RunInterrupted):  # SIGINT/SIGTERM/SIGHUP: workers already stopped
            try:
                print(f"ungeanalyse: {exc.text}", file=sys.stderr)
            except OSError:  # the terminal is gone (SIGHUP)
                pass
            return exc.exit_code
        print("ungeanalyse: interrupted; earlier outputs are left whole", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
