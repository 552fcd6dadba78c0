"""``nmdakin cache info|clear``: the compile cache of the native solvers (:mod:`kinetics.cachedir`)."""
from __future__ import annotations

__all__ = ["add_subcommands", "cmd_cache_info", "cmd_cache_clear"]


def cmd_cache_info(args) -> int:
    from kinetics.cachedir import cache_info

    print(cache_info().describe())
    return 0


def cmd_cache_clear(args) -> int:
    from kinetics.cachedir import cache_info, clear_cache

    folder = cache_info().directory
    removed, freed = clear_cache()
    print(f"compile cache: {folder}: removed {removed} files ({freed / 1e6:.1f} MB); models are compiled again "
          "when next used")
    return 0


def add_subcommands(subparsers) -> None:
    p = subparsers.add_parser("cache", help="see or clear the compile cache of the native solvers",
                              description="The compiled models of the native solvers are cached on disk "
                                          "($NMDAKIN_CACHE_DIR, else $XDG_CACHE_HOME/nmdakin, else "
                                          "~/.cache/nmdakin). `info` shows the folder, models and size; "
                                          "`clear` removes them (only the files the package wrote).")
    sub = p.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    i = sub.add_parser("info", help="the cache folder, the number of compiled models and the size")
    i.set_defaults(func=cmd_cache_info)
    c = sub.add_parser("clear", help="remove the compiled models (they are rebuilt when next used)")
    c.set_defaults(func=cmd_cache_clear)
