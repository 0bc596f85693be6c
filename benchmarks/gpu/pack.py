"""`make gpu-pack`: write data/gpu/fer2013.npz.xz, the FER-2013 copy that travels to the GPU box.

The box receives only the working tree, at most 64 MiB in all (the tool library's device README), and the
csv.gz alone is 90 MB: the pack holds every PublicTest and PrivateTest image losslessly and as much of
Training (a stratified, seeded subset) as fits beside the tree. data/ is ignored by git, so the pack never
enters a commit; name it in the device call's carry ([data/gpu]).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fer_bench.core.errors import FerBenchError  # noqa: E402
from fer_bench.data.fer2013 import default_data_path  # noqa: E402
from fer_bench.data.load import load_dataset  # noqa: E402
from fer_bench.data.pack import write_pack  # noqa: E402

LIMIT_MIB = 64     # the device tool's working-tree limit
MARGIN_MIB = 2     # files a session adds before it calls the device


def tree_bytes(skip: Path) -> int:
    """Bytes of what the device tool copies: tracked files and untracked ones that git does not ignore."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    paths = [ROOT / n for n in names if n]
    return sum(p.stat().st_size for p in paths if p.is_file() and p.resolve() != skip.resolve())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/gpu/pack.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--data", default=None, help="FER-2013 CSV or folder (default: data/fer2013)")
    p.add_argument("--out", default=str(ROOT / "data" / "gpu" / "fer2013.npz.xz"))
    p.add_argument("--max-mib", type=float, default=None,
                   help=f"size limit of the pack (default: {LIMIT_MIB} MiB - the tree - {MARGIN_MIB} MiB)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Training subset")
    a = p.parse_args(argv)
    out = Path(a.out)
    tree = tree_bytes(out)
    limit = a.max_mib * 2**20 if a.max_mib else (LIMIT_MIB - MARGIN_MIB) * 2**20 - tree
    print(f"gpu-pack: tree {tree / 2**20:.1f} MiB; pack limit {limit / 2**20:.1f} MiB (compressing with xz, "
          "about a minute)", file=sys.stderr)
    res = write_pack(load_dataset(a.data or default_data_path()), out, int(limit), a.seed)
    print(f"gpu-pack: {res['path']}: {res['bytes'] / 2**20:.1f} MiB, {res['images']:,} images ({res['note']})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FerBenchError as e:
        print(f"gpu-pack: {e}", file=sys.stderr)
        sys.exit(1)
